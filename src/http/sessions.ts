/**
 * 2025-era (legacy) clients over Streamable HTTP: one session per `initialize`, each its own McpServer from
 * `createServer` connected to the SDK's session-based `WebStandardStreamableHTTPServerTransport` with a bounded
 * event store for `Last-Event-ID` resumption. The session id is a random UUID; a session belongs to the tenant that
 * created it, and any other tenant presenting its id is told it does not exist. Sessions are bounded in number and
 * expire after an idle time with no request in flight (an open GET stream counts as in flight).
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  isInitializeRequest,
  type McpServer,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { InstancePort } from '../resources/notifications.js';
import { createServer } from '../server.js';
import { BoundedEventStore, ReplayBudget, SharedEventStore } from './event-store.js';
import { jsonRpcError } from './respond.js';
import type { SessionRecord, SharedState } from './shared.js';
import type { Tenant } from './tenants.js';

/** Per-session resumption buffer: enough for a burst of notifications and a few large results. */
export const SESSION_EVENTS = 1000;
export const SESSION_EVENT_BYTES = 8 * 1024 * 1024;
/** What every session's resumption buffer holds together: past it the oldest event of any session leaves first. */
export const SESSION_EVENT_BUDGET_BYTES = 64 * 1024 * 1024;
/**
 * With --redis-url, each instance serving a session produces its GET-stream notifications; the same message stored
 * again within this window is the same event (see shared.ts).
 */
export const SHARED_EVENT_WINDOW_MS = 1000;
/** The SSE `retry:` advice on legacy streams. */
export const SESSION_RETRY_MS = 1000;

interface Session {
  id: string;
  tenant: Tenant;
  transport: WebStandardStreamableHTTPServerTransport;
  server: McpServer;
  /** The session's own subscriptions and instance; list changes are announced tenant-wide. */
  port: InstancePort;
  /** Leaves the tenant's list-change announcements. */
  leave: () => void;
  /** The session's resumption buffer (in this instance). */
  events: BoundedEventStore;
  /** Requests in flight, the GET stream included. */
  active: number;
  lastUsed: number;
  closed: boolean;
  /** With --redis-url: the session's subscriptions as recorded in Redis, held here (see #sync). */
  synced: Map<string, () => void>;
  syncing: Promise<void>;
}

export interface LegacySessionsOptions {
  config: Config;
  logger: Logger;
  /** With --redis-url: sessions are recorded in Redis and any instance serves any of them (see #adopt). */
  shared?: SharedState;
}

const sharedUnavailable = () =>
  jsonRpcError(503, -32000, 'Session state is unavailable: the shared store (Redis) is unreachable; retry shortly', {
    'retry-after': '2',
  });

/** The messages of a request body (one, or a batch). */
const messagesOf = (body: unknown): { method?: unknown; params?: { uri?: unknown } }[] =>
  (Array.isArray(body) ? body : [body]).filter((m) => m && typeof m === 'object');

/** A request made inside this process to bring a session's transport to where its client left it. */
function replayed(body: unknown, sessionId?: string): Request {
  return new Request('http://kernel-mcp.internal/mcp', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(sessionId ? { 'mcp-session-id': sessionId } : {}),
    },
    body: JSON.stringify(body),
  });
}

export class LegacySessions {
  readonly #sessions = new Map<string, Session>();
  readonly #config: Config;
  readonly #logger: Logger;
  readonly #sweeper: NodeJS.Timeout;
  readonly #shared: SharedState | undefined;
  /** Sessions being adopted (their first request here), so concurrent requests share one adoption. */
  readonly #adopting = new Map<string, Promise<Session | undefined>>();
  /** Exchanges of sessions not held here yet, counted once adopted. */
  readonly #waiting = new Map<string, Set<ServerResponse>>();
  /** The bytes every session's resumption buffer holds together. */
  readonly replayBudget = new ReplayBudget(SESSION_EVENT_BUDGET_BYTES);
  #closed = false;

  constructor({ config, logger, shared }: LegacySessionsOptions) {
    this.#config = config;
    this.#logger = logger;
    this.#shared = shared;
    shared?.onSessionEvent((event, id) => {
      const s = this.#sessions.get(id);
      if (!s) return;
      if (event === 'end') void this.#end(s);
      else void this.#sync(s);
    });
    const every = Math.max(100, Math.min(Math.floor(config.sessionIdleMs / 4), 30_000));
    this.#sweeper = setInterval(() => this.sweep(), every);
    this.#sweeper.unref();
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Counts an HTTP exchange against its session (by header) until the response closes, so busy sessions stay. */
  track(sessionId: string | undefined, tenant: Tenant, res: ServerResponse) {
    if (!sessionId) return;
    const s = this.#sessions.get(sessionId);
    if (!s && this.#shared) {
      // Perhaps another instance's session, adopted by this request: counted then.
      const waiting = this.#waiting.get(sessionId) ?? new Set<ServerResponse>();
      this.#waiting.set(sessionId, waiting);
      waiting.add(res);
      res.once('close', () => {
        waiting.delete(res);
        if (waiting.size === 0 && this.#waiting.get(sessionId) === waiting) this.#waiting.delete(sessionId);
      });
      return;
    }
    if (!s || s.tenant !== tenant) return;
    this.#count(s, res);
  }

  #count(s: Session, res: ServerResponse) {
    s.active++;
    s.lastUsed = Date.now();
    res.once('close', () => {
      s.active--;
      s.lastUsed = Date.now();
    });
  }

  /** Serves one legacy request for a tenant. */
  async handle(tenant: Tenant, request: Request, parsedBody?: unknown): Promise<Response> {
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId) {
      let s = this.#sessions.get(sessionId);
      if (!s && this.#shared) {
        const adopted = await this.#adopt(tenant, sessionId);
        if (adopted instanceof Response) return adopted;
        s = adopted;
      }
      // Another tenant's session is, for this client, a session that does not exist.
      if (!s || s.closed || s.tenant !== tenant) return jsonRpcError(404, -32001, 'Session not found');
      if (this.#shared) {
        // Ended (DELETE) or expired in Redis: ended here too.
        let alive: boolean;
        try {
          alive = await this.#shared.touchSession(sessionId, this.#config.sessionIdleMs);
        } catch {
          return sharedUnavailable();
        }
        if (!alive) {
          void this.#end(s);
          return jsonRpcError(404, -32001, 'Session not found');
        }
        const recorded = await this.#recordSubscriptions(s, parsedBody);
        if (recorded) return recorded;
      }
      s.lastUsed = Date.now();
      return s.transport.handleRequest(request, parsedBody === undefined ? undefined : { parsedBody });
    }
    if (request.method !== 'POST') {
      return jsonRpcError(400, -32000, 'Bad Request: Mcp-Session-Id header is required');
    }
    let body: unknown = parsedBody;
    if (body === undefined) {
      try {
        body = JSON.parse(await request.clone().text());
      } catch {
        return jsonRpcError(400, -32700, 'Parse error: the request body is not valid JSON');
      }
    }
    if (!isInitializeRequest(body)) {
      return jsonRpcError(400, -32000, 'Bad Request: Mcp-Session-Id header is required (send initialize first)');
    }
    if (this.#closed) return jsonRpcError(503, -32000, 'Server is shutting down');
    if (this.#shared && !this.#shared.health().ok) return sharedUnavailable();
    // A passthrough key at its own bound makes room among its own sessions only.
    if (tenant.limited && tenant.sessions >= this.#config.maxClientSessions && !this.#evictOne(tenant)) {
      return jsonRpcError(503, -32000, 'Too many sessions for this key: end one (DELETE) or try again later', {
        'retry-after': '5',
      });
    }
    if (this.#sessions.size >= this.#config.maxSessions && !this.#evictOne()) {
      return jsonRpcError(503, -32000, 'Too many sessions: try again later', { 'retry-after': '5' });
    }
    return this.#open(tenant, request, body);
  }

  async #open(tenant: Tenant, request: Request, body: unknown): Promise<Response> {
    const session = this.#create(tenant, () => randomUUID(), body);
    await session.server.connect(session.transport);
    const response = await session.transport.handleRequest(request, { parsedBody: body });
    if (!session.id) {
      // The initialize failed (bad params, unsupported version): nothing to keep.
      this.#forget(session);
      void session.server.close().catch(() => {});
    }
    return response;
  }

  /**
   * A session's server and transport. `initialize` is the client's request when the session starts here (recorded in
   * Redis with --redis-url), undefined when another instance's session is adopted.
   */
  #create(tenant: Tenant, sessionId: () => string, initialize?: unknown): Session {
    const shared = this.#shared;
    const local = new BoundedEventStore({
      maxEvents: SESSION_EVENTS,
      maxBytes: SESSION_EVENT_BYTES,
      budget: this.replayBudget,
    });
    // With --redis-url the GET stream's events are in Redis: resumable on any instance.
    const bounds = { maxEvents: SESSION_EVENTS, windowMs: SHARED_EVENT_WINDOW_MS, ttlMs: this.#config.sessionIdleMs };
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: sessionId,
      eventStore: shared ? new SharedEventStore(local, shared, () => session.id, bounds) : local,
      maxRequestBodySize: this.#config.maxBodyBytes,
      // Priming events tell a client how soon to reconnect a dropped stream (it resumes with Last-Event-ID).
      retryInterval: SESSION_RETRY_MS,
      onsessioninitialized: async (id) => {
        session.id = id;
        this.#sessions.set(id, session);
        tenant.sessions++;
        this.#logger.debug('legacy session opened', { client: tenant.label, sessions: this.#sessions.size });
        if (shared && initialize !== undefined && tenant.shareKey) {
          const record: SessionRecord = { tenant: tenant.shareKey, initialize };
          await shared.saveSession(id, record, this.#config.sessionIdleMs);
        }
      },
      // DELETE through this instance ends the session on every instance.
      ...(shared
        ? {
            onsessionclosed: (id: string) =>
              shared.endSession(id).catch((err: Error) => {
                this.#logger.warn('ended session not removed from Redis', { error: err.message });
              }),
          }
        : {}),
    });
    const own = new InstancePort(tenant.deps.hub, this.#logger);
    const { port, leave } = tenant.port.join(own);
    const server = own.serve(createServer(this.#config, tenant.deps, port));
    const session: Session = {
      id: '',
      tenant,
      transport,
      server,
      port: own,
      leave,
      events: local,
      active: 0,
      lastUsed: Date.now(),
      closed: false,
      synced: new Map(),
      syncing: Promise.resolve(),
    };
    transport.onclose = () => this.#forget(session);
    transport.onerror = (err) => this.#logger.debug('legacy session transport', { error: err.message });
    return session;
  }

  /**
   * Serves here a session another instance created (--redis-url). The SDK's transport serves only the session it
   * initialized, so the session's recorded `initialize` (and `notifications/initialized`) is replayed into a new
   * server and transport whose id generator gives the session's id: the same negotiated version and client
   * capabilities, through the SDK's public API. Its subscriptions are then taken from Redis.
   */
  async #adopt(tenant: Tenant, id: string): Promise<Session | undefined | Response> {
    let record: SessionRecord | undefined;
    try {
      record = await this.#shared!.loadSession(id);
    } catch {
      return sharedUnavailable();
    }
    if (!record || record.tenant !== tenant.shareKey) return undefined;
    if (this.#sessions.size >= this.#config.maxSessions && !this.#evictOne()) {
      return jsonRpcError(503, -32000, 'Too many sessions: try again later', { 'retry-after': '5' });
    }
    let adopting = this.#adopting.get(id);
    if (!adopting) {
      adopting = this.#revive(tenant, id, record).finally(() => this.#adopting.delete(id));
      this.#adopting.set(id, adopting);
    }
    return adopting;
  }

  async #revive(tenant: Tenant, id: string, record: SessionRecord): Promise<Session | undefined> {
    const s = this.#sessions.get(id);
    if (s) return s;
    const session = this.#create(tenant, () => id);
    await session.server.connect(session.transport);
    await (await session.transport.handleRequest(replayed(record.initialize))).text();
    if (!session.id) {
      this.#forget(session);
      void session.server.close().catch(() => {});
      return undefined;
    }
    await (
      await session.transport.handleRequest(replayed({ jsonrpc: '2.0', method: 'notifications/initialized' }, id))
    ).text();
    for (const res of this.#waiting.get(id) ?? []) this.#count(session, res);
    this.#waiting.delete(id);
    await this.#sync(session);
    this.#logger.debug('legacy session adopted from Redis', { client: tenant.label });
    return session;
  }

  /** Records a request's `resources/subscribe` and `resources/unsubscribe` URIs in Redis; a 503 if it cannot. */
  async #recordSubscriptions(s: Session, body: unknown): Promise<Response | undefined> {
    for (const m of messagesOf(body)) {
      const add = m.method === 'resources/subscribe';
      if (!add && m.method !== 'resources/unsubscribe') continue;
      const uri = m.params?.uri;
      if (typeof uri !== 'string') continue;
      try {
        await this.#shared!.changeSubscriptions(s.id, [uri], add, this.#config.sessionIdleMs);
      } catch {
        return sharedUnavailable();
      }
    }
    return undefined;
  }

  /**
   * Holds the session's subscriptions as recorded in Redis, so updates reach its GET stream whichever instance holds
   * it. (The instance that served `resources/subscribe` also holds the URI for the request; subscriptions count.)
   */
  #sync(s: Session): Promise<void> {
    const shared = this.#shared;
    if (!shared) return Promise.resolve();
    s.syncing = s.syncing.then(async () => {
      let uris: string[];
      try {
        uris = await shared.sessionSubscriptions(s.id);
      } catch (err) {
        this.#logger.warn('session subscriptions not synced: Redis is unreachable', { error: String(err) });
        return;
      }
      if (s.closed) return;
      const wanted = new Set(uris);
      for (const [uri, release] of s.synced) {
        if (wanted.has(uri)) continue;
        release();
        s.synced.delete(uri);
      }
      for (const uri of wanted) if (!s.synced.has(uri)) s.synced.set(uri, s.port.subscriptions.retain([uri]));
    });
    return s.syncing;
  }

  #forget(s: Session) {
    if (s.closed) return;
    s.closed = true;
    for (const release of s.synced.values()) release();
    s.synced.clear();
    s.leave();
    s.port.close();
    s.events.dispose();
    if (s.id && this.#sessions.get(s.id) === s) {
      this.#sessions.delete(s.id);
      s.tenant.sessions--;
      this.#logger.debug('legacy session closed', { client: s.tenant.label, sessions: this.#sessions.size });
    }
  }

  async #end(s: Session) {
    this.#forget(s);
    try {
      await s.server.close();
    } catch {}
  }

  /**
   * Makes room by ending the least recently used session with nothing in flight: among `own`'s sessions when given
   * (a key at its own bound), otherwise among the sessions of the tenant holding the most, so a key with few sessions
   * never loses one to a key with many.
   */
  #evictOne(own?: Tenant): boolean {
    this.sweep();
    if (!own && this.#sessions.size < this.#config.maxSessions) return true;
    if (own && own.sessions < this.#config.maxClientSessions) return true;
    const counts = new Map<Tenant, number>();
    for (const s of this.#sessions.values()) if (s.active === 0) counts.set(s.tenant, (counts.get(s.tenant) ?? 0) + 1);
    let from = own;
    if (!from) {
      for (const [t, n] of counts) if (!from || n > (counts.get(from) ?? 0)) from = t;
    }
    let victim: Session | undefined;
    for (const s of this.#sessions.values()) {
      if (s.active > 0 || s.tenant !== from) continue;
      if (!victim || s.lastUsed < victim.lastUsed) victim = s;
    }
    if (!victim) return false;
    this.#logger.info('session limit reached: ending the least recently used idle session', {
      maxSessions: this.#config.maxSessions,
      client: victim.tenant.label,
    });
    void this.#end(victim);
    return true;
  }

  /** Ends sessions idle (nothing in flight) for longer than sessionIdleMs. */
  sweep(now = Date.now()) {
    for (const s of [...this.#sessions.values()]) {
      // A session busy here (an open GET stream) stays alive in Redis too.
      if (this.#shared && s.active > 0) {
        this.#shared.touchSession(s.id, this.#config.sessionIdleMs).catch(() => {});
      }
      if (s.active === 0 && now - s.lastUsed >= this.#config.sessionIdleMs) {
        this.#logger.debug('legacy session expired', { client: s.tenant.label });
        void this.#end(s);
      }
    }
  }

  /** Ends every session: their GET streams and in-flight response streams close. */
  async close() {
    this.#closed = true;
    clearInterval(this.#sweeper);
    await Promise.all([...this.#sessions.values()].map((s) => this.#end(s)));
  }
}
