/** Browser sessions: create/list/get/update/delete, lifecycle (idle timeout, soft delete) and their JSON view. */
import type { SimContext } from './context.js';
import { badRequest, notFound, tooManyRequests } from './errors.js';
import type { EventLog } from './event-log.js';
import type { Ctx, Reply, Route } from './http.js';
import { bodyOf, empty, json, matchesQuery, page, param } from './http.js';
import { MemFs, seedFilesystem } from './memfs.js';
import { profileView } from './profiles.js';
import { type SseOptions, serveSse } from './streams.js';
import { createTelemetryLog, navigate } from './telemetry.js';
import type { BrowserRecord, Json, TelemetryConfig, Viewport } from './types.js';
import { compact, isObject, nowIso } from './util.js';
import { readZip } from './zip.js';

export interface BrowserRequestBody {
  invocation_id?: string;
  stealth?: boolean;
  headless?: boolean;
  gpu?: boolean;
  timeout_seconds?: number;
  profile?: { id?: string; name?: string; save_changes?: boolean };
  extensions?: Array<{ id?: string; name?: string }>;
  proxy_id?: string;
  viewport?: { width: number; height: number; refresh_rate?: number };
  kiosk_mode?: boolean;
  start_url?: string;
  chrome_policy?: Json;
  telemetry?: TelemetryConfig | null;
}

export interface BrowserConfig {
  stealth: boolean;
  headless: boolean;
  gpu: boolean;
  kioskMode: boolean;
  timeoutSeconds: number;
  profileId?: string;
  saveProfileChanges: boolean;
  proxyId?: string;
  extensionIds: string[];
  viewport: Viewport;
  startUrl?: string;
  chromePolicy?: Json;
  telemetry?: TelemetryConfig;
  invocationId?: string;
  pool?: { id: string; name?: string };
}

/** Chrome policies Kernel manages itself (extensions, proxy, CDP/automation) and refuses to override. */
const BLOCKED_POLICY = /^(Extension|Proxy|RemoteDebugging|DeveloperToolsAvailability$|CommandLineFlagSecurityWarnings)/;

export function defaultRefreshRate(width: number, height: number, gpu: boolean): number {
  if (gpu) return 60;
  const pixels = width * height;
  if (pixels > 1920 * 1200) return 10;
  if (pixels > 1280 * 800) return 25;
  return 60;
}

/** Validates the references in a BrowserRequest-shaped body; unknown references are 400s (no 404 declared). */
export function resolveBrowserConfig(sim: SimContext, body: BrowserRequestBody, defaultTimeout: number): BrowserConfig {
  const { state } = sim;
  const headless = body.headless ?? false;
  const gpu = body.gpu ?? false;
  if (gpu && headless) throw badRequest('gpu requires headless=false');
  let profileId: string | undefined;
  if (body.profile) {
    const ref = body.profile.id ?? body.profile.name ?? '';
    const profile = [...state.profiles.values()].find((p) => p.id === ref || p.name === ref);
    if (!profile) throw badRequest(`profile '${ref}' not found (profiles must be created beforehand)`);
    profileId = profile.id;
  }
  const extensionIds = (body.extensions ?? []).map((ref, i) => {
    const key = ref.id ?? ref.name ?? '';
    const ext = [...state.extensions.values()].find((e) => e.id === key || e.name === key);
    if (!ext) throw badRequest(`extensions[${i}]: extension '${key}' not found`);
    return ext.id;
  });
  if (body.proxy_id !== undefined) {
    const proxy = state.proxies.get(body.proxy_id);
    if (!proxy || proxy.deleted) throw badRequest(`proxy_id: proxy '${body.proxy_id}' not found`);
  }
  if (body.invocation_id !== undefined && !state.invocations.has(body.invocation_id)) {
    throw badRequest(`invocation_id: invocation '${body.invocation_id}' not found`);
  }
  for (const key of Object.keys(body.chrome_policy ?? {})) {
    if (BLOCKED_POLICY.test(key)) throw badRequest(`chrome_policy.${key} is managed by Kernel and cannot be set`);
  }
  const width = body.viewport?.width ?? 1920;
  const height = body.viewport?.height ?? 1080;
  return {
    stealth: body.stealth ?? false,
    headless,
    gpu,
    kioskMode: body.kiosk_mode ?? false,
    timeoutSeconds: body.timeout_seconds ?? defaultTimeout,
    profileId,
    saveProfileChanges: body.profile?.save_changes ?? false,
    proxyId: body.proxy_id,
    extensionIds,
    viewport: { width, height, refresh_rate: body.viewport?.refresh_rate ?? defaultRefreshRate(width, height, gpu) },
    startUrl: body.start_url,
    chromePolicy: body.chrome_policy,
    telemetry: body.telemetry ?? undefined,
    invocationId: body.invocation_id,
  };
}

function installExtensions(sim: SimContext, b: BrowserRecord): void {
  for (const id of b.extensionIds) {
    const ext = sim.state.extensions.get(id);
    if (!ext) continue;
    ext.lastUsedAt = nowIso();
    try {
      for (const entry of readZip(ext.data)) {
        const target = `/home/kernel/extensions/${ext.name ?? ext.id}/${entry.name}`;
        if (entry.isDir) b.fs.mkdir(target);
        else b.fs.writeFile(target, entry.data);
      }
    } catch {
      // Archives are validated on upload; a broken one simply is not unpacked.
    }
  }
}

export function createBrowser(sim: SimContext, cfg: BrowserConfig): BrowserRecord {
  const id = sim.ids.id();
  const now = Date.now();
  const fs = new MemFs();
  seedFilesystem(fs, `browser-${id.slice(0, 8)}`);
  const b: BrowserRecord = {
    id,
    token: `sim.${sim.ids.token(32)}`,
    createdAt: new Date(now).toISOString(),
    createdMs: now,
    lastActivityMs: now,
    headless: cfg.headless,
    stealth: cfg.stealth,
    gpu: cfg.gpu,
    kioskMode: cfg.kioskMode,
    timeoutSeconds: cfg.timeoutSeconds,
    profileId: cfg.profileId,
    saveProfileChanges: cfg.saveProfileChanges,
    proxyId: cfg.proxyId,
    disableDefaultProxy: false,
    pool: cfg.pool,
    viewport: { ...cfg.viewport },
    startUrl: cfg.startUrl,
    chromePolicy: cfg.chromePolicy,
    telemetry: cfg.telemetry,
    invocationId: cfg.invocationId,
    extensionIds: cfg.extensionIds,
    fs,
    mouse: { x: Math.floor(cfg.viewport.width / 2), y: Math.floor(cfg.viewport.height / 2) },
    scroll: { x: 0, y: 0 },
    clipboard: '',
    cursorHidden: false,
    page: {
      url: 'about:blank',
      title: '',
      navSeq: 0,
      targetId: sim.ids.token(32, '0123456789ABCDEF'),
      frameId: '',
      loaderId: '',
    },
    telemetryLog: undefined as unknown as EventLog<Json>,
    replays: new Map(),
    processes: new Map(),
    watches: new Map(),
    openStreams: 0,
    onEnd: [],
  };
  b.page.frameId = b.page.targetId;
  b.telemetryLog = createTelemetryLog(sim, b);
  sim.state.browsers.set(id, b);
  if (b.profileId) {
    const profile = sim.state.profiles.get(b.profileId);
    if (profile) profile.lastUsedAt = nowIso();
  }
  installExtensions(sim, b);
  if (b.startUrl) navigate(sim, b, b.startUrl);
  return b;
}

/** Soft-deletes a session: ends its streams, processes, watches and recordings, and captures its profile. */
export function endBrowser(sim: SimContext, b: BrowserRecord): void {
  if (b.deletedAt) return;
  b.deletedMs = Date.now();
  b.deletedAt = new Date(b.deletedMs).toISOString();
  for (const fn of b.onEnd.splice(0)) fn();
  b.telemetryLog.finish();
  if (b.profileId && b.saveProfileChanges) {
    const profile = sim.state.profiles.get(b.profileId);
    if (profile) {
      profile.capturedAt = b.deletedAt;
      profile.updatedAt = b.deletedAt;
    }
  }
  if (b.pool) {
    const pool = sim.state.pools.get(b.pool.id);
    if (pool) {
      pool.leased.delete(b.id);
      pool.idle = pool.idle.filter((id) => id !== b.id);
    }
  }
}

/** A browser kept idle inside a pool (released for reuse) is not a user-visible session. */
export function isPoolIdle(sim: SimContext, b: BrowserRecord): boolean {
  if (!b.pool) return false;
  return sim.state.pools.get(b.pool.id)?.idle.includes(b.id) ?? false;
}

/**
 * The live session named by the `{id}` path parameter (touching it counts as activity). With `allowDeleted`,
 * soft-deleted sessions are found too (their replays stay downloadable).
 */
export function requireBrowser(ctx: Ctx, opts: { allowDeleted?: boolean } = {}): BrowserRecord {
  const id = param(ctx, 'id');
  const b = ctx.sim.state.browsers.get(id);
  if (!b || (b.deletedAt && !opts.allowDeleted) || isPoolIdle(ctx.sim, b)) throw notFound('browser session', id);
  b.lastActivityMs = Date.now();
  return b;
}

export function browserView(sim: SimContext, b: BrowserRecord): Json {
  const base = sim.baseUrl;
  const ws = base.replace(/^http/, 'ws');
  const profile = b.profileId ? sim.state.profiles.get(b.profileId) : undefined;
  return compact({
    created_at: b.createdAt,
    cdp_ws_url: `${ws}/browser/${b.id}/cdp?jwt=${b.token}`,
    webdriver_ws_url: `${ws}/browser/${b.id}/webdriver/session?jwt=${b.token}`,
    browser_live_view_url: b.headless ? undefined : `${base}/browser/${b.id}/live?jwt=${b.token}`,
    base_url: `${base}/browser/${b.id}/kernel`,
    headless: b.headless,
    stealth: b.stealth,
    gpu: b.gpu,
    session_id: b.id,
    timeout_seconds: b.timeoutSeconds,
    profile: profile ? profileView(profile) : undefined,
    proxy_id: b.proxyId,
    pool: b.pool ? compact({ ...b.pool }) : undefined,
    viewport: { ...b.viewport },
    kiosk_mode: b.kioskMode,
    start_url: b.startUrl,
    chrome_policy: b.chromePolicy,
    deleted_at: b.deletedAt,
    usage: { uptime_ms: (b.deletedMs ?? Date.now()) - b.createdMs },
    telemetry: b.telemetry,
  });
}

/** Serves an SSE stream that belongs to a session; while it is open the session does not time out. */
export function serveBrowserSse<T>(ctx: Ctx, b: BrowserRecord, log: EventLog<T>, opts?: SseOptions<T>): Reply {
  b.openStreams++;
  ctx.res.once('close', () => {
    b.openStreams--;
    b.lastActivityMs = Date.now();
  });
  return serveSse(ctx, log, opts);
}

/** Ends sessions idle for longer than their timeout_seconds (open streams count as activity). */
export function startIdleSweeper(sim: SimContext): void {
  if (!sim.options.enforceBrowserTimeouts) return;
  sim.timers.every(1000, () => {
    const now = Date.now();
    for (const b of sim.state.browsers.values()) {
      if (b.deletedAt || b.openStreams > 0 || isPoolIdle(sim, b)) continue;
      if (now - b.lastActivityMs > b.timeoutSeconds * 1000) endBrowser(sim, b);
    }
  });
}

function activeSessionCount(sim: SimContext): number {
  let n = 0;
  for (const b of sim.state.browsers.values()) if (!b.deletedAt && !isPoolIdle(sim, b)) n++;
  return n;
}

/** The default project's max_concurrent_sessions cap, if set, is enforced with 429s. */
function enforceSessionLimit(sim: SimContext): void {
  const project = sim.state.projects.values().next().value;
  const cap = project?.limits.max_concurrent_sessions;
  if (cap !== undefined && activeSessionCount(sim) >= cap) {
    throw tooManyRequests(`concurrent session limit of ${cap} reached`, 5);
  }
}

function postBrowsers(ctx: Ctx): Reply {
  const body = bodyOf<BrowserRequestBody>(ctx);
  const cfg = resolveBrowserConfig(ctx.sim, body, 60);
  enforceSessionLimit(ctx.sim);
  return json(200, browserView(ctx.sim, createBrowser(ctx.sim, cfg)));
}

function getBrowsers(ctx: Ctx): Reply {
  const status =
    (ctx.query['status'] as string | undefined) ?? (ctx.query['include_deleted'] === true ? 'all' : 'active');
  const items = [...ctx.sim.state.browsers.values()].filter((b) => {
    if (isPoolIdle(ctx.sim, b)) return false;
    if (status === 'active' && b.deletedAt) return false;
    if (status === 'deleted' && !b.deletedAt) return false;
    const poolName = b.pool?.name;
    return matchesQuery(ctx.query['query'], b.id, b.profileId, b.proxyId, poolName);
  });
  return page(ctx, items, true, (b) => browserView(ctx.sim, b));
}

function getBrowser(ctx: Ctx): Reply {
  const id = param(ctx, 'id');
  const b = ctx.sim.state.browsers.get(id);
  if (!b || isPoolIdle(ctx.sim, b) || (b.deletedAt && ctx.query['include_deleted'] !== true)) {
    throw notFound('browser session', id);
  }
  return json(200, browserView(ctx.sim, b));
}

function deleteBrowser(ctx: Ctx): Reply {
  endBrowser(ctx.sim, requireBrowser(ctx));
  return empty(204);
}

interface BrowserUpdateBody {
  proxy_id?: string | null;
  disable_default_proxy?: boolean;
  profile?: { id?: string; name?: string; save_changes?: boolean };
  viewport?: { width: number; height: number; refresh_rate?: number; force?: boolean };
  telemetry?: TelemetryConfig | null;
}

function patchBrowser(ctx: Ctx): Reply {
  const { sim } = ctx;
  const b = requireBrowser(ctx);
  const body = bodyOf<BrowserUpdateBody>(ctx);
  if (typeof body.proxy_id === 'string') {
    if (body.proxy_id === '') b.proxyId = undefined;
    else {
      const proxy = sim.state.proxies.get(body.proxy_id);
      if (!proxy || proxy.deleted) throw badRequest(`proxy_id: proxy '${body.proxy_id}' not found`);
      b.proxyId = proxy.id;
    }
  }
  if (body.disable_default_proxy !== undefined) b.disableDefaultProxy = body.disable_default_proxy;
  if (body.profile) {
    if (b.profileId) throw badRequest('profile: the session already has a profile loaded');
    const ref = body.profile.id ?? body.profile.name ?? '';
    const profile = [...sim.state.profiles.values()].find((p) => p.id === ref || p.name === ref);
    if (!profile) throw badRequest(`profile '${ref}' not found`);
    b.profileId = profile.id;
    b.saveProfileChanges = body.profile.save_changes ?? false;
    profile.lastUsedAt = nowIso();
  }
  if (body.viewport) {
    const recording = [...b.replays.values()].some((r) => !r.finishedAt);
    if (recording && !body.viewport.force) {
      throw badRequest('viewport: a replay recording is active; pass force=true to resize anyway');
    }
    const { width, height } = body.viewport;
    b.viewport = {
      width,
      height,
      refresh_rate: body.viewport.refresh_rate ?? defaultRefreshRate(width, height, b.gpu),
    };
    b.mouse = { x: Math.min(b.mouse.x, width - 1), y: Math.min(b.mouse.y, height - 1) };
  }
  if (isObject(body.telemetry) && body.telemetry.browser !== undefined) b.telemetry = body.telemetry;
  return json(200, browserView(sim, b));
}

export const BROWSER_ROUTES: Route[] = [
  {
    method: 'POST',
    path: '/browsers',
    operationId: 'postBrowsers',
    handler: postBrowsers,
  },
  {
    method: 'GET',
    path: '/browsers',
    operationId: 'getBrowsers',
    handler: getBrowsers,
  },
  {
    method: 'GET',
    path: '/browsers/{id}',
    operationId: 'getBrowsersById',
    handler: getBrowser,
  },
  { method: 'DELETE', path: '/browsers/{id}', operationId: 'deleteBrowsersById', handler: deleteBrowser },
  {
    method: 'PATCH',
    path: '/browsers/{id}',
    operationId: 'patchBrowsersById',
    handler: patchBrowser,
  },
];
