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
import { BoundedEventStore } from './event-store.js';
import { jsonRpcError } from './respond.js';
import type { Tenant } from './tenants.js';

/** Per-session resumption buffer: enough for a burst of notifications and a few large results. */
export const SESSION_EVENTS = 1000;
export const SESSION_EVENT_BYTES = 8 * 1024 * 1024;
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
  /** Requests in flight, the GET stream included. */
  active: number;
  lastUsed: number;
  closed: boolean;
}

export interface LegacySessionsOptions {
  config: Config;
  logger: Logger;
}

export class LegacySessions {
  readonly #sessions = new Map<string, Session>();
  readonly #config: Config;
  readonly #logger: Logger;
  readonly #sweeper: NodeJS.Timeout;
  #closed = false;

  constructor({ config, logger }: LegacySessionsOptions) {
    this.#config = config;
    this.#logger = logger;
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
    if (!s || s.tenant !== tenant) return;
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
      const s = this.#sessions.get(sessionId);
      // Another tenant's session is, for this client, a session that does not exist.
      if (!s || s.closed || s.tenant !== tenant) return jsonRpcError(404, -32001, 'Session not found');
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
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore: new BoundedEventStore({ maxEvents: SESSION_EVENTS, maxBytes: SESSION_EVENT_BYTES }),
      maxRequestBodySize: this.#config.maxBodyBytes,
      // Priming events tell a client how soon to reconnect a dropped stream (it resumes with Last-Event-ID).
      retryInterval: SESSION_RETRY_MS,
      onsessioninitialized: (id) => {
        session.id = id;
        this.#sessions.set(id, session);
        tenant.sessions++;
        this.#logger.debug('legacy session opened', { client: tenant.label, sessions: this.#sessions.size });
      },
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
      active: 0,
      lastUsed: Date.now(),
      closed: false,
    };
    transport.onclose = () => this.#forget(session);
    transport.onerror = (err) => this.#logger.debug('legacy session transport', { error: err.message });
    await server.connect(transport);
    const response = await transport.handleRequest(request, { parsedBody: body });
    if (!session.id) {
      // The initialize failed (bad params, unsupported version): nothing to keep.
      this.#forget(session);
      void server.close().catch(() => {});
    }
    return response;
  }

  #forget(s: Session) {
    if (s.closed) return;
    s.closed = true;
    s.leave();
    s.port.close();
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
