/**
 * Browser pools. A pool of `size` holds at most `size` leased sessions; acquiring beyond that long-polls for
 * `acquire_timeout_seconds` (default 0) and answers 204 when nothing was released meanwhile. Released sessions
 * are kept for reuse (`reuse`, default true) or destroyed; flush destroys the idle ones.
 */
import { type BrowserRequestBody, browserView, createBrowser, endBrowser, resolveBrowserConfig } from './browsers.js';
import type { SimContext } from './context.js';
import { badRequest, conflict, forbidden } from './errors.js';
import type { Ctx, Reply, Route } from './http.js';
import { bodyOf, empty, json, param } from './http.js';
import { byIdOrName, nameTaken } from './state.js';
import type { BrowserRecord, Json, PoolRecord } from './types.js';
import { compact, nowIso } from './util.js';

interface PoolBody extends BrowserRequestBody {
  name?: string;
  size: number;
  fill_rate_per_minute?: number;
  timeout_seconds?: number;
  discard_all_idle?: boolean;
}

const size = (pool: PoolRecord): number => pool.config['size'] as number;

export function poolView(pool: PoolRecord): Json {
  return compact({
    id: pool.id,
    name: pool.name,
    available_count: Math.max(0, size(pool) - pool.leased.size),
    acquired_count: pool.leased.size,
    created_at: pool.createdAt,
    browser_pool_config: pool.config,
  });
}

/** Validates a pool body (references, pooled-session cap) and returns the config echoed by the API. */
function poolConfig(sim: SimContext, body: PoolBody, exceptPoolId?: string): Json {
  resolveBrowserConfig(sim, body, body.timeout_seconds ?? 600);
  const cap = sim.state.projects.values().next().value?.limits.max_pooled_sessions;
  if (cap !== undefined) {
    let total = body.size;
    for (const p of sim.state.pools.values()) if (p.id !== exceptPoolId) total += size(p);
    if (total > cap) throw forbidden(`pooled sessions limit of ${cap} exceeded (requested total ${total})`);
  }
  const { discard_all_idle: _discard, ...config } = body;
  return compact({
    ...config,
    fill_rate_per_minute: body.fill_rate_per_minute ?? 10,
    timeout_seconds: body.timeout_seconds ?? 600,
  });
}

const lookup = (ctx: Ctx): PoolRecord => byIdOrName(ctx.sim.state.pools, param(ctx, 'id_or_name'), 'browser pool');

function lease(sim: SimContext, pool: PoolRecord): BrowserRecord {
  let b: BrowserRecord | undefined;
  while (!b && pool.idle.length > 0) {
    const candidate = sim.state.browsers.get(pool.idle.shift() ?? '');
    if (candidate && !candidate.deletedAt) b = candidate;
  }
  if (!b) {
    const cfg = resolveBrowserConfig(
      sim,
      pool.config as unknown as BrowserRequestBody,
      pool.config['timeout_seconds'] as number,
    );
    b = createBrowser(sim, { ...cfg, pool: compact({ id: pool.id, name: pool.name }) });
  }
  b.lastActivityMs = Date.now();
  pool.leased.add(b.id);
  return b;
}

/** Hands free capacity to waiting acquire requests, oldest first. */
function serveWaiters(sim: SimContext, pool: PoolRecord): void {
  while (pool.waiters.length > 0 && pool.leased.size < size(pool)) {
    const waiter = pool.waiters.shift();
    waiter?.(lease(sim, pool).id);
  }
}

async function acquire(ctx: Ctx): Promise<Reply> {
  const { sim } = ctx;
  const pool = lookup(ctx);
  if (pool.leased.size < size(pool)) return json(200, browserView(sim, lease(sim, pool)));
  const timeoutSeconds = bodyOf<{ acquire_timeout_seconds?: number }>(ctx).acquire_timeout_seconds ?? 0;
  if (timeoutSeconds <= 0) return empty(204);
  const browserId = await new Promise<string | undefined>((resolve) => {
    const waiter = (id: string | undefined): void => {
      cancel();
      resolve(id);
    };
    const cancel = sim.timers.after(timeoutSeconds * 1000, () => {
      pool.waiters = pool.waiters.filter((w) => w !== waiter);
      resolve(undefined);
    });
    ctx.res.once('close', () => {
      if (!pool.waiters.includes(waiter)) return;
      pool.waiters = pool.waiters.filter((w) => w !== waiter);
      cancel();
      resolve(undefined);
    });
    pool.waiters.push(waiter);
  });
  const b = browserId ? sim.state.browsers.get(browserId) : undefined;
  return b ? json(200, browserView(sim, b)) : empty(204);
}

function release(ctx: Ctx): Reply {
  const { sim } = ctx;
  const pool = lookup(ctx);
  const { session_id: id, reuse = true } = bodyOf<{ session_id: string; reuse?: boolean }>(ctx);
  const b = sim.state.browsers.get(id);
  if (!b || !pool.leased.has(id) || b.deletedAt) {
    throw badRequest(`session_id: browser session '${id}' is not leased from pool '${pool.name ?? pool.id}'`);
  }
  pool.leased.delete(id);
  if (reuse) pool.idle.push(id);
  else endBrowser(sim, b);
  serveWaiters(sim, pool);
  return empty(204);
}

function flushIdle(sim: SimContext, pool: PoolRecord): void {
  for (const id of pool.idle.splice(0)) {
    const b = sim.state.browsers.get(id);
    if (b) endBrowser(sim, b);
  }
}

function update(ctx: Ctx): Reply {
  const { sim } = ctx;
  const pool = lookup(ctx);
  const body = bodyOf<PoolBody>(ctx);
  if (body.name !== undefined && nameTaken(sim.state.pools, body.name, pool.id)) {
    throw conflict(`a browser pool named '${body.name}' already exists`);
  }
  pool.config = poolConfig(sim, body, pool.id);
  if (body.name !== undefined) pool.name = body.name;
  if (body.discard_all_idle) flushIdle(sim, pool);
  serveWaiters(sim, pool);
  return json(200, poolView(pool));
}

function remove(ctx: Ctx): Reply {
  const { sim } = ctx;
  const pool = lookup(ctx);
  const force = bodyOf<{ force?: boolean }>(ctx).force ?? false;
  if (pool.leased.size > 0 && !force) {
    throw badRequest(`browser pool has ${pool.leased.size} leased browser(s); pass force=true to terminate them`);
  }
  for (const id of [...pool.leased]) {
    const b = sim.state.browsers.get(id);
    if (b) endBrowser(sim, b);
  }
  flushIdle(sim, pool);
  for (const waiter of pool.waiters.splice(0)) waiter(undefined);
  sim.state.pools.delete(pool.id);
  return empty(204);
}

export const POOL_ROUTES: Route[] = [
  {
    method: 'POST',
    path: '/browser_pools',
    operationId: 'postBrowserPools',
    handler: (ctx) => {
      const body = bodyOf<PoolBody>(ctx);
      if (nameTaken(ctx.sim.state.pools, body.name))
        throw conflict(`a browser pool named '${body.name}' already exists`);
      const pool: PoolRecord = {
        id: ctx.sim.ids.id(),
        name: body.name,
        createdAt: nowIso(),
        config: poolConfig(ctx.sim, body),
        leased: new Set(),
        idle: [],
        waiters: [],
      };
      ctx.sim.state.pools.set(pool.id, pool);
      return json(201, poolView(pool));
    },
  },
  {
    method: 'GET',
    path: '/browser_pools',
    operationId: 'getBrowserPools',
    handler: (ctx) => json(200, [...ctx.sim.state.pools.values()].map(poolView)),
  },
  {
    method: 'GET',
    path: '/browser_pools/{id_or_name}',
    operationId: 'getBrowserPoolsByIdOrName',
    handler: (ctx) => json(200, poolView(lookup(ctx))),
  },
  {
    method: 'PATCH',
    path: '/browser_pools/{id_or_name}',
    operationId: 'updateBrowserPoolsByIdOrName',
    handler: update,
  },
  {
    method: 'DELETE',
    path: '/browser_pools/{id_or_name}',
    operationId: 'deleteBrowserPoolsByIdOrName',
    handler: remove,
  },
  {
    method: 'POST',
    path: '/browser_pools/{id_or_name}/acquire',
    operationId: 'acquireFromBrowserPoolByIdOrName',
    handler: acquire,
  },
  {
    method: 'POST',
    path: '/browser_pools/{id_or_name}/release',
    operationId: 'releaseToBrowserPoolByIdOrName',
    handler: release,
  },
  {
    method: 'POST',
    path: '/browser_pools/{id_or_name}/flush',
    operationId: 'flushBrowserPoolByIdOrName',
    handler: (ctx) => {
      flushIdle(ctx.sim, lookup(ctx));
      return empty(204);
    },
  },
];
