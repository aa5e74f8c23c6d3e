/**
 * The proxy-pool sessions service (Connect protocol, unary JSON): `POST /proxies.v1.Proxies/<Method>` for
 * CreateSession, BulkCreateSessions and DeleteSession. Bearer auth is checked by the server core before this runs.
 *
 * Sessions are stored per workspace and pool. A pool's live sessions have distinct tokens: CreateSession with a
 * taken token is `already_exists`; BulkCreateSessions is all-or-nothing and idempotent on pool + token (an
 * identical session is returned as it is, a different one with the same token is `already_exists`); DeleteSession
 * is a soft delete, and deleting again is `not_found`.
 *
 * Every Connect code is reachable through reserved workspace IDs: 15 zero bytes then one byte N. N = the code's
 * number (1 canceled ... 16 unauthenticated) fails every call; N = 0x40 + the number fails only the first call with
 * a given body (so a retried call then succeeds). See docs/proxy-pool.md for the table.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { SimContext } from './context.js';
import { isObject } from './util.js';

/** Connect codes by their gRPC number, with the HTTP status the Connect protocol sends them with. */
export const PROXY_POOL_CODES = [
  ['canceled', 1, 499],
  ['unknown', 2, 500],
  ['invalid_argument', 3, 400],
  ['deadline_exceeded', 4, 504],
  ['not_found', 5, 404],
  ['already_exists', 6, 409],
  ['permission_denied', 7, 403],
  ['resource_exhausted', 8, 429],
  ['failed_precondition', 9, 400],
  ['aborted', 10, 409],
  ['out_of_range', 11, 400],
  ['unimplemented', 12, 501],
  ['internal', 13, 500],
  ['unavailable', 14, 503],
  ['data_loss', 15, 500],
  ['unauthenticated', 16, 401],
] as const;
export type ProxyPoolCode = (typeof PROXY_POOL_CODES)[number][0];

const STATUS = new Map<string, number>(PROXY_POOL_CODES.map(([code, , status]) => [code, status]));
const BY_NUMBER = new Map<number, ProxyPoolCode>(PROXY_POOL_CODES.map(([code, n]) => [n, code]));
const NUMBER = new Map<string, number>(PROXY_POOL_CODES.map(([code, n]) => [code, n]));

/** What the seed's error examples say, for the codes it shows; the rest in the same voice. */
const MESSAGES: Record<ProxyPoolCode, string> = {
  canceled: 'The request was canceled.',
  unknown: 'An unknown error occurred.',
  invalid_argument: 'The request is invalid.',
  deadline_exceeded: 'The request did not complete before its deadline.',
  not_found: 'The requested resource does not exist in this workspace.',
  already_exists: 'The resource already exists.',
  permission_denied: 'The API key is not allowed to perform this action on this workspace.',
  resource_exhausted: 'The request was rate limited. Slow down and retry later.',
  failed_precondition: 'The request cannot be carried out in the current system state.',
  aborted: 'The request was aborted because of a concurrent change.',
  out_of_range: 'A value is out of range.',
  unimplemented: 'The method is not implemented.',
  internal: 'An internal server error occurred.',
  unavailable: 'The service is temporarily unavailable.',
  data_loss: 'Unrecoverable data loss or corruption.',
  unauthenticated: 'The request lacks a valid API key in the Authorization header.',
};

const ONCE_FLAG = 0x40;

/**
 * The reserved workspace ID that answers `code`: on every call, or (`once`) only on the first call with a given
 * request body. Standard base64 of 16 bytes: 15 zero bytes, then the code's number (plus 0x40 for `once`).
 */
export function errorWorkspaceId(code: ProxyPoolCode, once = false): string {
  const bytes = Buffer.alloc(16);
  bytes[15] = (NUMBER.get(code) ?? 2) | (once ? ONCE_FLAG : 0);
  return bytes.toString('base64');
}

function reservedCode(workspace: Buffer): { code: ProxyPoolCode; once: boolean } | undefined {
  for (let i = 0; i < 15; i++) if (workspace[i] !== 0) return undefined;
  const last = workspace[15] ?? 0;
  const once = (last & ONCE_FLAG) !== 0;
  const code = BY_NUMBER.get(last & ~ONCE_FLAG);
  return code ? { code, once } : undefined;
}

class ConnectFailure extends Error {
  constructor(
    readonly code: ProxyPoolCode,
    message: string,
  ) {
    super(message);
  }
}

const invalid = (message: string) => new ConnectFailure('invalid_argument', message);

export interface StoredSession {
  id: string;
  workspaceId: string;
  poolId: string;
  providerId: string;
  token?: string;
  scheme?: string;
  host?: string;
  port?: number;
  username?: string;
  /** Kept to compare idempotent re-creations; never answered. */
  password?: string;
  enabled: boolean;
  version: number;
  createdAt: string;
  updatedAt: string;
  deletedAt?: string;
}

interface PoolSessions {
  sessions: Map<string, StoredSession>;
  /** Live sessions by token. */
  byToken: Map<string, StoredSession>;
}

class ProxyPoolStore {
  /** workspace -> pool -> sessions. */
  readonly workspaces = new Map<string, Map<string, PoolSessions>>();
  /** Bodies already failed once by a `once` reserved workspace. */
  readonly failedOnce = new Set<string>();
  private lastMs = 0;
  private seq = 0;

  pool(workspaceId: string, poolId: string): PoolSessions {
    let pools = this.workspaces.get(workspaceId);
    if (!pools) {
      pools = new Map();
      this.workspaces.set(workspaceId, pools);
    }
    let pool = pools.get(poolId);
    if (!pool) {
      pool = { sessions: new Map(), byToken: new Map() };
      pools.set(poolId, pool);
    }
    return pool;
  }

  find(workspaceId: string, id: string): { pool: PoolSessions; session: StoredSession } | undefined {
    for (const pool of this.workspaces.get(workspaceId)?.values() ?? []) {
      const session = pool.sessions.get(id);
      if (session) return { pool, session };
    }
    return undefined;
  }

  /** A UUIDv7-shaped 16-byte id (millisecond time, then a counter and the simulator's seeded randomness). */
  newId(sim: SimContext): string {
    const now = Date.now();
    this.seq = now === this.lastMs ? this.seq + 1 : 0;
    this.lastMs = now;
    const b = Buffer.alloc(16);
    b.writeUIntBE(now, 0, 6);
    b.writeUInt16BE(0x7000 | (this.seq & 0x0fff), 6);
    b.writeUInt32BE(sim.ids.next(), 8);
    b.writeUInt32BE(sim.ids.next(), 12);
    b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
    return b.toString('base64');
  }
}

const stores = new WeakMap<SimContext, ProxyPoolStore>();
/** The same stores by simulator URL, for tests that hold a started simulator rather than its context. */
const byUrl = new Map<string, WeakRef<ProxyPoolStore>>();

function storeOf(sim: SimContext): ProxyPoolStore {
  let store = stores.get(sim);
  if (!store) {
    store = new ProxyPoolStore();
    stores.set(sim, store);
    if (sim.baseUrl) byUrl.set(sim.baseUrl, new WeakRef(store));
  }
  return store;
}

/**
 * Every stored session of a simulator (by its context, or by its URL), live and soft-deleted (with `deletedAt`),
 * without passwords: for tests, since the service itself has no list method.
 */
export function proxyPoolSessions(sim: SimContext | string): Record<string, unknown>[] {
  const store = typeof sim === 'string' ? byUrl.get(sim)?.deref() : storeOf(sim);
  const out: Record<string, unknown>[] = [];
  for (const pools of store?.workspaces.values() ?? []) {
    for (const pool of pools.values()) {
      for (const s of pool.sessions.values())
        out.push({ ...view(s), ...(s.deletedAt ? { deletedAt: s.deletedAt } : {}) });
    }
  }
  return out;
}

/** The session as the service answers it (proto3 JSON: camelCase, unset fields omitted, int64 as a string). */
function view(s: StoredSession): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: s.id,
    workspaceId: s.workspaceId,
    poolId: s.poolId,
    providerId: s.providerId,
  };
  if (s.token !== undefined) out.token = s.token;
  if (s.scheme !== undefined) out.scheme = s.scheme;
  if (s.host !== undefined) out.host = s.host;
  if (s.port !== undefined) out.port = s.port;
  if (s.username !== undefined) out.username = s.username;
  out.enabled = s.enabled;
  out.version = String(s.version);
  out.createdAt = s.createdAt;
  out.updatedAt = s.updatedAt;
  return out;
}

/** A field by its JSON name or its proto name (protojson accepts both). */
function field(obj: Record<string, unknown>, camel: string): unknown {
  if (obj[camel] !== undefined && obj[camel] !== null) return obj[camel];
  const snake = camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const v = obj[snake];
  return v === null ? undefined : v;
}

/** A bytes field of 16 bytes: standard or URL-safe base64, padded or not (protojson); answered in standard form. */
function idField(obj: Record<string, unknown>, name: string, label = name): string {
  const v = field(obj, name);
  if (v === undefined || v === '') throw invalid(`${label}: value is required`);
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) throw invalid(`${label}: invalid base64 value`);
  const bytes = Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (bytes.length !== 16) throw invalid(`${label}: value must be 16 bytes, got ${bytes.length}`);
  return bytes.toString('base64');
}

function optString(obj: Record<string, unknown>, name: string, label: string): string | undefined {
  const v = field(obj, name);
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw invalid(`${label}: invalid value, expected a string`);
  return v;
}

function optPort(obj: Record<string, unknown>, label: string): number | undefined {
  const v = field(obj, 'port');
  if (v === undefined || v === 0 || v === '0') return undefined;
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw invalid(`${label}: invalid value, expected an integer`);
  if (n < 1 || n > 65535)
    throw invalid(`${label}: value must be greater than or equal to 1 and less than or equal to 65535`);
  return n;
}

const SCHEMES = new Set(['http', 'https', 'socks4', 'socks5']);
const HOSTNAME =
  /^(?=.{1,253}\.?$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

type SessionSpec = Pick<StoredSession, 'token' | 'scheme' | 'host' | 'port' | 'username' | 'password'>;

/** One session's fields, checked: a rotation session is a token alone; a static one has the whole endpoint. */
function sessionSpec(obj: Record<string, unknown>, prefix: string, tokenRequired: boolean): SessionSpec {
  const spec: SessionSpec = {
    token: optString(obj, 'token', `${prefix}token`),
    scheme: optString(obj, 'scheme', `${prefix}scheme`),
    host: optString(obj, 'host', `${prefix}host`),
    port: optPort(obj, `${prefix}port`),
    username: optString(obj, 'username', `${prefix}username`),
    password: optString(obj, 'password', `${prefix}password`),
  };
  if (spec.token !== undefined && spec.token.length > 256) throw invalid(`${prefix}token: at most 256 characters`);
  const endpoint = (['scheme', 'host', 'port', 'username', 'password'] as const).filter((k) => spec[k] !== undefined);
  if (endpoint.length === 0) {
    if (spec.token === undefined) {
      throw invalid(`${prefix}token: a rotation session needs a token (or give a static endpoint)`);
    }
  } else {
    for (const k of ['scheme', 'host', 'port', 'username', 'password'] as const) {
      if (spec[k] === undefined) throw invalid(`${prefix}${k}: value is required for a static endpoint`);
    }
    if (!SCHEMES.has(spec.scheme ?? '')) {
      throw invalid(`${prefix}scheme: value must be one of http, https, socks4, socks5`);
    }
    const host = spec.host ?? '';
    if (!isIP(host) && !HOSTNAME.test(host)) {
      // The endpoint is quoted as the proxy URL the service failed to parse, password included, as a real service
      // could: a server passing the error on must not show it (test/reliability/secrets.test.ts).
      const url = `${spec.scheme}://${spec.username}:${spec.password}@${host}:${spec.port}`;
      throw invalid(`${prefix}host: value must be a host name or IP address (parse ${JSON.stringify(url)})`);
    }
  }
  if (tokenRequired && spec.token === undefined) {
    throw invalid(`${prefix}token: value is required (bulk creation is idempotent on pool and token)`);
  }
  return spec;
}

const SPEC_KEYS = ['providerId', 'token', 'scheme', 'host', 'port', 'username', 'password'] as const;

function differences(existing: StoredSession, providerId: string, spec: SessionSpec): string[] {
  const wanted: Record<string, unknown> = { ...spec, providerId };
  return SPEC_KEYS.filter((k) => existing[k] !== wanted[k]);
}

function store(sim: SimContext, ws: string, poolId: string, providerId: string, spec: SessionSpec): StoredSession {
  const s = storeOf(sim);
  const now = new Date().toISOString();
  const session: StoredSession = {
    id: s.newId(sim),
    workspaceId: ws,
    poolId,
    providerId,
    enabled: true,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  for (const k of ['token', 'scheme', 'host', 'port', 'username', 'password'] as const) {
    if (spec[k] !== undefined) (session as unknown as Record<string, unknown>)[k] = spec[k];
  }
  const pool = s.pool(ws, poolId);
  pool.sessions.set(session.id, session);
  if (session.token !== undefined) pool.byToken.set(session.token, session);
  return session;
}

function createSession(sim: SimContext, ws: string, body: Record<string, unknown>): unknown {
  const poolId = idField(body, 'poolId');
  const providerId = idField(body, 'providerId');
  const spec = sessionSpec(body, '', false);
  const pool = storeOf(sim).pool(ws, poolId);
  if (spec.token !== undefined && pool.byToken.has(spec.token)) {
    throw new ConnectFailure('already_exists', `a live session with token "${spec.token}" already exists in this pool`);
  }
  return { session: view(store(sim, ws, poolId, providerId, spec)) };
}

export const MAX_BULK_SESSIONS = 1000;

function bulkCreateSessions(sim: SimContext, ws: string, body: Record<string, unknown>): unknown {
  const poolId = idField(body, 'poolId');
  const providerId = idField(body, 'providerId');
  const list = field(body, 'sessions');
  if (list === undefined || (Array.isArray(list) && list.length === 0)) {
    throw invalid('sessions: value must contain at least 1 item');
  }
  if (!Array.isArray(list)) throw invalid('sessions: invalid value, expected a list');
  if (list.length > MAX_BULK_SESSIONS) throw invalid(`sessions: value must contain at most ${MAX_BULK_SESSIONS} items`);
  // Check everything first: one invalid session fails the whole request and nothing is created.
  const specs = list.map((item, i) => {
    if (!isObject(item)) throw invalid(`sessions[${i}]: invalid value, expected an object`);
    return sessionSpec(item, `sessions[${i}].`, true);
  });
  const pool = storeOf(sim).pool(ws, poolId);
  const seen = new Map<string, number>();
  const existing = specs.map((spec, i) => {
    const token = spec.token ?? '';
    const first = seen.get(token);
    if (first !== undefined) throw invalid(`sessions[${i}].token: repeats the token of sessions[${first}]`);
    seen.set(token, i);
    const found = pool.byToken.get(token);
    if (found) {
      const diff = differences(found, providerId, spec);
      if (diff.length > 0) {
        throw new ConnectFailure(
          'already_exists',
          `sessions[${i}]: a live session with token "${token}" already exists in this pool with a different ${diff.join(', ')}`,
        );
      }
    }
    return found;
  });
  const sessions = specs.map((spec, i) => existing[i] ?? store(sim, ws, poolId, providerId, spec));
  return { sessions: sessions.map(view) };
}

function deleteSession(sim: SimContext, ws: string, body: Record<string, unknown>): unknown {
  const id = idField(body, 'id');
  const found = storeOf(sim).find(ws, id);
  if (!found || found.session.deletedAt) {
    throw new ConnectFailure('not_found', `session ${id} does not exist in this workspace`);
  }
  const now = new Date().toISOString();
  found.session.deletedAt = now;
  found.session.updatedAt = now;
  found.session.version++;
  if (found.session.token !== undefined && found.pool.byToken.get(found.session.token) === found.session) {
    found.pool.byToken.delete(found.session.token);
  }
  return {};
}

const METHODS: Record<string, (sim: SimContext, ws: string, body: Record<string, unknown>) => unknown> = {
  CreateSession: createSession,
  BulkCreateSessions: bulkCreateSessions,
  DeleteSession: deleteSession,
};

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    'content-length': String(Buffer.byteLength(payload)),
  });
  res.end(payload);
}

function answer(sim: SimContext, req: IncomingMessage, res: ServerResponse, raw: Buffer): unknown {
  const method = (req.url ?? '').split('?')[0]?.split('/').pop() ?? '';
  const handler = METHODS[method];
  if (!handler) throw new ConnectFailure('unimplemented', `proxies.v1.Proxies/${method} is not implemented`);
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (contentType !== 'application/json') {
    // Connect servers answer an unsupported codec with a bare 415 (clients read it as `unknown`).
    send(res, 415, undefined, { 'accept-post': 'application/json' });
    return undefined;
  }
  const version = req.headers['connect-protocol-version'];
  if (version !== '1') throw invalid('missing required header: set Connect-Protocol-Version to "1"');
  const timeout = req.headers['connect-timeout-ms'];
  if (timeout !== undefined && !/^\d{1,10}$/.test(String(timeout))) {
    throw invalid('Connect-Timeout-Ms must be a positive integer of at most 10 digits');
  }
  let body: unknown;
  try {
    body = raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw invalid(`unmarshal message: ${(e as Error).message}`);
  }
  if (!isObject(body)) throw invalid('unmarshal message: expected a JSON object');
  const ws = idField(body, 'workspaceId');
  const reserved = reservedCode(Buffer.from(ws, 'base64'));
  if (reserved) {
    const key = `${method} ${raw.toString('utf8')}`;
    const store = storeOf(sim);
    if (!reserved.once || !store.failedOnce.has(key)) {
      if (reserved.once) store.failedOnce.add(key);
      const how = reserved.once ? 'answers the first call with each body with' : 'always answers';
      const message = MESSAGES[reserved.code].replace(/\.$/, '');
      throw new ConnectFailure(reserved.code, `${message} (simulator: workspace ${ws} ${how} ${reserved.code}).`);
    }
  }
  return handler(sim, ws, body);
}

export async function handleProxyPool(
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  sim: SimContext,
): Promise<void> {
  try {
    const result = answer(sim, req, res, body);
    if (result !== undefined && !res.headersSent) send(res, 200, result);
  } catch (e) {
    if (res.headersSent) return;
    const failure =
      e instanceof ConnectFailure ? e : new ConnectFailure('internal', `simulator error: ${(e as Error).message}`);
    send(res, STATUS.get(failure.code) ?? 500, { code: failure.code, message: failure.message });
  }
}
