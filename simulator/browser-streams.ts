/**
 * Browser-scoped event streams: telemetry (`/browsers/{id}/telemetry`) and log files
 * (`/browsers/{id}/logs/stream`). Log streams follow a file of the session's filesystem: `source=path` any file,
 * `source=supervisor` the file /var/log/supervisord/<supervisor_process>, to which the simulated supervisor
 * appends a line every eventIntervalMs while someone follows it. Event ids are line numbers, so resuming with
 * Last-Event-ID continues after the last line received.
 */
import { requireBrowser, serveBrowserSse } from './browsers.js';
import type { SimContext } from './context.js';
import { badRequest, notFound } from './errors.js';
import { EventLog } from './event-log.js';
import type { Ctx, Reply, Route } from './http.js';
import { type FsError, MemFs } from './memfs.js';
import type { BrowserRecord, Json } from './types.js';

function streamTelemetry(ctx: Ctx): Reply {
  const b = requireBrowser(ctx);
  return serveBrowserSse(ctx, b, b.telemetryLog, { format: (e) => ({ seq: e.id, event: e.data }) });
}

/** Reference-counted writers appending supervisor log lines while a stream follows them. */
const supervisorWriters = new WeakMap<BrowserRecord, Map<string, { count: number; stop: () => void }>>();

function followSupervisor(sim: SimContext, b: BrowserRecord, process: string, path: string): () => void {
  let writers = supervisorWriters.get(b);
  if (!writers) {
    writers = new Map();
    supervisorWriters.set(b, writers);
  }
  const existing = writers.get(process);
  if (existing) existing.count++;
  else {
    let n = 0;
    const stop = sim.timers.every(sim.options.eventIntervalMs, () => {
      if (b.deletedAt || !b.fs.exists(path)) return;
      n++;
      b.fs.appendFile(path, Buffer.from(`${new Date().toISOString()} ${process}: heartbeat ${n}\n`));
    });
    writers.set(process, { count: 1, stop });
  }
  return () => {
    const w = writers.get(process);
    if (!w) return;
    w.count--;
    if (w.count === 0) {
      w.stop();
      writers.delete(process);
    }
  };
}

/** Builds a per-request log whose events are the complete lines of `path` (ids = line numbers). */
function fileLog(b: BrowserRecord, path: string, follow: boolean): { log: EventLog<Json>; dispose: () => void } {
  const log = new EventLog<Json>(1_000_000);
  let consumed = 0;
  const sync = (final: boolean): void => {
    let text: string;
    try {
      text = b.fs.readFile(path).toString('utf8');
    } catch {
      return;
    }
    if (text.length < consumed) consumed = 0; // truncated: start over
    const fresh = text.slice(consumed);
    const end = final ? fresh.length : fresh.lastIndexOf('\n') + 1;
    if (end <= 0) return;
    consumed += end;
    const chunk = fresh.slice(0, end);
    for (const line of (chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk).split('\n')) {
      log.push({ event: 'log', timestamp: new Date().toISOString(), message: line.replace(/\r$/, '') });
    }
  };
  if (!follow) {
    sync(true);
    log.finish();
    return { log, dispose: () => {} };
  }
  sync(false);
  const unwatch = b.fs.onChange((c) => {
    if (c.path !== path) return;
    if (c.type === 'DELETE' || c.type === 'RENAME') log.finish();
    else sync(false);
  });
  const end = (): void => log.finish();
  b.onEnd.push(end);
  return {
    log,
    dispose: () => {
      unwatch();
      b.onEnd = b.onEnd.filter((f) => f !== end);
    },
  };
}

function streamLogs(ctx: Ctx): Reply {
  const b = requireBrowser(ctx);
  const source = ctx.query['source'] as 'path' | 'supervisor';
  const follow = (ctx.query['follow'] as boolean | undefined) ?? true;
  let path: string;
  let supervisorProcess: string | undefined;
  if (source === 'path') {
    const p = ctx.query['path'] as string | undefined;
    if (!p) throw badRequest('path is required when source=path');
    try {
      path = MemFs.normalize(p);
    } catch (e) {
      throw badRequest(`path: ${(e as FsError).message}`);
    }
  } else {
    supervisorProcess = ctx.query['supervisor_process'] as string | undefined;
    if (!supervisorProcess) throw badRequest('supervisor_process is required when source=supervisor');
    if (!/^[\w.-]+$/.test(supervisorProcess)) throw badRequest('supervisor_process: invalid process name');
    path = `/var/log/supervisord/${supervisorProcess}`;
  }
  if (!b.fs.exists(path)) {
    throw notFound(source === 'path' ? 'log file' : 'supervisor process', supervisorProcess ?? path);
  }
  if (b.fs.stat(path).isDir) throw badRequest(`path: ${path} is a directory`);
  const { log, dispose } = fileLog(b, path, follow);
  const unfollow = follow && supervisorProcess ? followSupervisor(ctx.sim, b, supervisorProcess, path) : () => {};
  ctx.res.once('close', () => {
    dispose();
    unfollow();
  });
  return serveBrowserSse(ctx, b, log);
}

export const BROWSER_STREAM_ROUTES: Route[] = [
  { method: 'GET', path: '/browsers/{id}/telemetry', operationId: 'streamBrowserTelemetry', handler: streamTelemetry },
  {
    method: 'GET',
    path: '/browsers/{id}/logs/stream',
    operationId: 'logsStream',
    handler: streamLogs,
  },
];
