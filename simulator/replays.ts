/**
 * Replay recordings. One recording at a time per session (409 otherwise). A recording stops when asked, after
 * max_duration_in_seconds, or when the session ends; it is then "processed" for 2 x eventIntervalMs, during
 * which the download answers 202 with Retry-After, and afterwards an MP4 container.
 */
import { mp4 } from './archive.js';
import { requireBrowser } from './browsers.js';
import type { SimContext } from './context.js';
import { badRequest, conflict, notFound } from './errors.js';
import type { Ctx, Reply, Route } from './http.js';
import { bodyOf, bytes, empty, json, param } from './http.js';
import type { BrowserRecord, Json, ReplayRecord } from './types.js';
import { compact, stableHash } from './util.js';

function replayView(sim: SimContext, b: BrowserRecord, r: ReplayRecord): Json {
  return compact({
    replay_id: r.id,
    started_at: r.startedAt,
    finished_at: r.finishedAt,
    replay_view_url: `${sim.baseUrl}/browser/replays?jwt=${b.token}&replay_id=${r.id}`,
  });
}

export function stopReplay(sim: SimContext, r: ReplayRecord): void {
  if (r.finishedAt) return;
  const now = Date.now();
  r.finishedAt = new Date(now).toISOString();
  r.durationMs = now - r.startedMs;
  r.readyAtMs = now + 2 * sim.options.eventIntervalMs;
  r.cancelMaxDuration?.();
}

function start(ctx: Ctx): Reply {
  const { sim } = ctx;
  const b = requireBrowser(ctx);
  const body = bodyOf<{ framerate?: number; max_duration_in_seconds?: number }>(ctx);
  if ((body.framerate ?? 0) > 20 && !b.gpu) throw badRequest('framerate above 20 requires a GPU-enabled session');
  if ([...b.replays.values()].some((r) => !r.finishedAt)) throw conflict('a replay recording is already in progress');
  const now = Date.now();
  const r: ReplayRecord = {
    id: sim.ids.uuid(),
    startedAt: new Date(now).toISOString(),
    startedMs: now,
    durationMs: 0,
    framerate: body.framerate ?? 10,
  };
  if (body.max_duration_in_seconds) {
    r.cancelMaxDuration = sim.timers.after(body.max_duration_in_seconds * 1000, () => stopReplay(sim, r));
  }
  b.replays.set(r.id, r);
  b.onEnd.push(() => stopReplay(sim, r));
  return json(201, replayView(sim, b, r));
}

function lookup(ctx: Ctx): { b: BrowserRecord; r: ReplayRecord } {
  const b = requireBrowser(ctx, { allowDeleted: true });
  const id = param(ctx, 'replay_id');
  const r = b.replays.get(id);
  if (!r) throw notFound('replay', id);
  return { b, r };
}

function download(ctx: Ctx): Reply {
  const { r } = lookup(ctx);
  if (!r.finishedAt || (r.readyAtMs ?? 0) > Date.now()) {
    const waitMs = r.finishedAt ? (r.readyAtMs ?? 0) - Date.now() : 5000;
    return empty(202, { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) });
  }
  return bytes(200, mp4(r.durationMs, stableHash(r.id)), 'video/mp4', {
    'content-disposition': `attachment; filename="${r.id}.mp4"`,
  });
}

export const REPLAY_ROUTES: Route[] = [
  {
    method: 'POST',
    path: '/browsers/{id}/replays',
    operationId: 'startBrowserReplayRecording',
    handler: start,
  },
  {
    method: 'GET',
    path: '/browsers/{id}/replays',
    operationId: 'listBrowsersReplays',
    handler: (ctx) => {
      const b = requireBrowser(ctx, { allowDeleted: true });
      return json(
        200,
        [...b.replays.values()].map((r) => replayView(ctx.sim, b, r)),
      );
    },
  },
  {
    method: 'GET',
    path: '/browsers/{id}/replays/{replay_id}',
    operationId: 'getBrowsersReplaysById',
    handler: download,
  },
  {
    method: 'POST',
    path: '/browsers/{id}/replays/{replay_id}/stop',
    operationId: 'stopBrowserReplayRecording',
    handler: (ctx) => {
      const { r } = lookup(ctx);
      if (r.finishedAt) throw badRequest(`replay ${r.id} is not recording`);
      stopReplay(ctx.sim, r);
      return empty(200);
    },
  },
];
