/**
 * Streamable HTTP for both protocol eras, on `node:http`: start (assemble, listen, the Host defaults, OAuth, the
 * banner), serve (`GET /healthz`; the OAuth endpoints; `/mcp` through the guards, request-guards.ts, to the router,
 * routing.ts) and stop (drain, then close).
 *
 *   GET /healthz  liveness (no auth; 503 while shutting down or while Redis is lost, so a load balancer drains it)
 *   /mcp          MCP, per tenant (tenants.ts): 2026-07-28 stateless, 2025 sessions (sessions.ts)
 */
import { createServer as createNodeServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Config, ConfigError } from '../config.js';
import type { Logger } from '../log.js';
import { createOAuthGate, type OAuthGate } from '../oauth/gate.js';
import { addSecret, redact } from '../redact.js';
import type { ProcessDeps } from '../server.js';
import { VERSION } from '../version.js';
import { logRefusal } from './access-log.js';
import { ADMISSION_DEFAULTS, KeyAdmission } from './admission.js';
import { Authenticator, type AuthMode, resolveAuthMode } from './auth.js';
import { banner } from './banner.js';
import { Exchanges } from './exchanges.js';
import { hostForUrl, isLoopbackHost, isWildcardHost } from './guards.js';
import { IdleRelease } from './memory.js';
import { RequestGuards } from './request-guards.js';
import { writeJsonRpcError } from './respond.js';
import { Router } from './routing.js';
import { LegacySessions } from './sessions.js';
import { SharedState } from './shared.js';
import { TenantRegistry } from './tenants.js';

export interface HttpServerHandle {
  /** The MCP endpoint, e.g. `http://127.0.0.1:3333/mcp`. */
  url: string;
  host: string;
  port: number;
  /**
   * Stops serving. With `drain` (SIGTERM) it first drains: see `--shutdown-drain-ms`. A second call without `drain`
   * (SIGINT, or a second signal) cuts a drain short.
   */
  close(options?: { drain?: boolean }): Promise<void>;
}

/** The last event on every open stream at shutdown: clients that read it reconnect (elsewhere) after `retry`. */
const SHUTDOWN_EVENT = `event: shutdown\nretry: 1000\ndata: ${JSON.stringify({ reason: 'server shutting down' })}\n\n`;

const MCP_PATH = '/mcp';
const HEALTH_PATH = '/healthz';
/** A request (headers and body) must arrive within this: slow bodies cannot hold request slots for long. */
export const REQUEST_TIMEOUT_MS = 30_000;

/** The parts of one HTTP server, built before it listens. */
interface Parts {
  config: Config;
  deps: ProcessDeps;
  logger: Logger;
  mode: AuthMode;
  guards: RequestGuards;
  shared: SharedState | undefined;
  tenants: TenantRegistry;
  sessions: LegacySessions;
  exchanges: Exchanges;
  release: IdleRelease;
  router: Router;
  tenantSweeper: NodeJS.Timeout;
}

export async function startHttpServer(config: Config, deps: ProcessDeps): Promise<HttpServerHandle> {
  const parts = await assemble(config, deps);
  const { logger, guards } = parts;
  const server = createNodeServer({ requestTimeout: REQUEST_TIMEOUT_MS }, (req, res) => {
    logRefusal(req, res, logger);
    onRequest(parts, req, res).catch((err: unknown) => {
      // Nothing a request does may take the process down.
      logger.error('HTTP request failed', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      try {
        writeJsonRpcError(res, 500, -32603, 'Internal server error');
      } catch {
        res.destroy();
      }
    });
  });
  server.on('clientError', (err, socket) => {
    logger.debug('HTTP client error', { error: err.message });
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  await listen(server, config);
  server.on('error', (err) => logger.error('HTTP server error', { error: err.message }));
  const port = (server.address() as AddressInfo).port;
  guards.listening(port);
  const displayHost = isWildcardHost(config.host) ? '127.0.0.1' : hostForUrl(config.host);
  const base = `http://${displayHost}:${port}`;
  const url = `${base}${MCP_PATH}`;
  if (parts.mode === 'oauth') {
    try {
      guards.oauth = await startOAuth(config, deps, base, parts.shared);
    } catch (err) {
      server.close();
      throw new ConfigError(`--auth oauth: ${(err as Error).message}`);
    }
  }
  announce(parts, url, `${base}${HEALTH_PATH}`);
  return { url, host: config.host, port, close: stopper(parts, server) };
}

/** Everything a request meets, before the server listens. */
async function assemble(config: Config, deps: ProcessDeps): Promise<Parts> {
  const { logger } = deps;
  const mode = resolveAuthMode(config);
  addSecret(config.httpToken, { pin: true });
  if (mode === 'passthrough' && config.httpToken) {
    logger.warn('KERNEL_MCP_HTTP_TOKEN is not used with --auth passthrough: clients authenticate with their own key');
  }
  if (mode === 'passthrough' && config.apiKey) {
    logger.info('KERNEL_API_KEY is not used with --auth passthrough: each client reaches the API with its own key');
  }
  const guards = new RequestGuards(config, new Authenticator(mode, config.httpToken));
  // With --redis-url, Redis must answer before anything is served: never a silent fall-back to this process alone.
  const shared = config.redisUrl ? await SharedState.connect(config.redisUrl, logger) : undefined;
  const tenants = new TenantRegistry({
    config,
    deps,
    logger,
    maxTenants: config.maxSessions,
    idleMs: Math.max(config.sessionIdleMs, config.streamIdleMs),
    ...(mode === 'passthrough' ? { admission: new KeyAdmission({ ...ADMISSION_DEFAULTS, logger }) } : {}),
    ...(shared ? { shared } : {}),
  });
  const sessions = new LegacySessions({ config, logger, ...(shared ? { shared } : {}) });
  const release = new IdleRelease({ logger, idleMs: config.idleReleaseMs });
  const exchanges = new Exchanges(config, release);
  const router = new Router({ config, logger, tenants, sessions, exchanges });
  const tenantSweeper = setInterval(() => tenants.sweep(), 30_000);
  tenantSweeper.unref();
  return { config, deps, logger, mode, guards, shared, tenants, sessions, exchanges, release, router, tenantSweeper };
}

async function onRequest(parts: Parts, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { guards } = parts;
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (path === HEALTH_PATH) return health(parts, req, res);
  const { oauth } = guards;
  if (oauth && path !== MCP_PATH && path.startsWith('/.well-known/') !== path.startsWith('/oauth/')) {
    if (!guards.allowsHost(req, res)) return;
    if (await oauth.serve(req, res, path)) return;
  }
  if (path !== MCP_PATH) {
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
    return;
  }
  const auth = await guards.admit(req, res);
  if (auth) await parts.router.serve(req, res, auth);
}

function health({ guards, shared }: Parts, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  // Redis lost (--redis-url): 503 with the reason, so a load balancer sends clients to instances that share.
  const sharing = shared?.health() ?? { ok: true };
  const status = guards.stopping ? 'stopping' : sharing.ok ? 'ok' : 'degraded';
  const body = JSON.stringify(sharing.ok ? { status } : { status, reason: sharing.reason });
  res.writeHead(status === 'ok' ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Listens, turning the usual failures into a ConfigError that names the fix. */
function listen(server: Server, config: Config): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') {
        reject(new ConfigError(`port ${config.port} on ${config.host} is already in use: pick another with --port`));
      } else if (err.code === 'EACCES') {
        reject(new ConfigError(`not allowed to listen on ${config.host}:${config.port}: pick a port above 1023`));
      } else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') {
        reject(new ConfigError(`cannot listen on ${config.host}: not an address of this machine`));
      } else {
        reject(err);
      }
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(config.port, config.host);
  });
}

/**
 * --auth oauth: the resource server (and the built-in authorization server), made once the port is known. With
 * --redis-url the built-in server keeps its state in that Redis, on the shared state's connection.
 */
function startOAuth(config: Config, deps: ProcessDeps, base: string, shared?: SharedState): Promise<OAuthGate> {
  return createOAuthGate({
    publicUrl: config.publicUrl ?? base,
    ...(config.oauthIssuer ? { externalIssuer: config.oauthIssuer } : {}),
    ...(config.oauthSecret ? { secret: config.oauthSecret } : {}),
    verifyKey: (apiKey) => verifyKernelKey(deps, apiKey),
    accessTokenTtlS: config.oauthTokenTtlS,
    logger: deps.logger,
    ...(shared ? { shared: { redis: shared.connection, health: () => shared.health() } } : {}),
  });
}

/** Whether a Kernel API key authenticates against the Kernel API (one cheap read). */
async function verifyKernelKey(deps: ProcessDeps, apiKey: string): Promise<boolean> {
  try {
    await deps.client.withOptions({ apiKey }).json({ method: 'GET', path: '/browsers', query: { limit: 1 } });
    return true;
  } catch (err) {
    deps.logger.debug('a Kernel API key was refused', { error: (err as Error).message });
    return false;
  }
}

/** The warning for a non-loopback bind, the banner on stderr and the log line, once listening. */
function announce({ config, deps, logger, mode }: Parts, url: string, healthUrl: string): void {
  if (!isLoopbackHost(config.host)) {
    logger.warn(
      `serving on ${config.host}, reachable from other machines: put TLS in front (a reverse proxy) and ` +
        'list the names clients use in --allowed-hosts',
    );
  }
  if (config.logLevel !== 'silent') {
    const target = deps.simulated ? 'the built-in Kernel API simulator (SIMULATED)' : config.baseUrl;
    const tools = deps.selection?.tools.length ?? 0;
    process.stderr.write(`${redact(banner({ url, healthUrl, auth: mode, version: VERSION, target, tools }))}\n`);
  }
  logger.info(`listening on ${url}`, { auth: mode });
}

/** The handle's `close`: stop admitting, drain if asked (a second call cuts the drain short), then close. */
function stopper(parts: Parts, server: Server): HttpServerHandle['close'] {
  const { guards, exchanges, sessions, tenants, shared } = parts;
  let closing: Promise<void> | undefined;
  let cutShort: (() => void) | undefined;
  return (options = {}) => {
    if (closing && !options.drain) cutShort?.();
    closing ??= (async () => {
      guards.stopping = true;
      clearInterval(parts.tenantSweeper);
      parts.release.close();
      if (options.drain) {
        await drain(parts, new Promise<void>((resolve) => (cutShort = resolve)));
      }
      exchanges.announce(SHUTDOWN_EVENT);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await sessions.close();
      await tenants.close();
      shared?.close();
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise<void>((r) => (timer = setTimeout(r, 1500)))]);
      clearTimeout(timer);
      server.closeAllConnections();
    })();
    return closing;
  };
}

/**
 * Draining (SIGTERM): still listening, /healthz answers 503 and new MCP requests 503 with Retry-After (`stopping`),
 * so a load balancer takes the instance out while requests in flight finish. It lasts `--shutdown-drain-ms`, then
 * as long as requests other than streams are still running (up to `--timeout-ms`), unless `cut` settles first.
 */
async function drain({ config, exchanges, logger }: Parts, cut: Promise<void>): Promise<void> {
  if (config.shutdownDrainMs <= 0) return;
  logger.info('draining before shutdown: /healthz answers 503, new requests 503', {
    drainMs: config.shutdownDrainMs,
    requests: exchanges.requests,
    streams: exchanges.streams,
  });
  const timers: NodeJS.Timeout[] = [];
  const after = (ms: number) => new Promise<void>((resolve) => timers.push(setTimeout(resolve, ms)));
  try {
    await Promise.race([cut, after(config.shutdownDrainMs)]);
    if (exchanges.requests > 0) {
      logger.info('waiting for requests in flight', { requests: exchanges.requests });
      await Promise.race([cut, exchanges.requestsDone(), after(config.timeoutMs)]);
    }
  } finally {
    for (const t of timers) clearTimeout(t);
  }
}
