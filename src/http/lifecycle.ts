/**
 * Streamable HTTP for both protocol eras, on `node:http`:
 *
 *   GET /healthz  liveness (no auth; 503 while shutting down, so a load balancer drains the instance)
 *   /mcp          MCP. In front of any MCP processing: Host and Origin allow-lists (403), authentication (401),
 *                 the concurrent-request bound (503), the body-size bound (413).
 *
 * Behind the guards every request belongs to a tenant (see http/tenants.ts) and is routed with the SDK's own
 * classifier, `isLegacyRequest`: 2026-07-28 traffic goes to the tenant's stateless `createMcpHandler` (legacy:
 * 'reject'), so instances scale behind any load balancer; 2025-era traffic goes to a session-based transport with
 * session ids, the GET notification stream, DELETE and `Last-Event-ID` resumption (see http/sessions.ts).
 */
import { createServer as createNodeServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { type NodeMcpRequestHandler, toNodeHandler } from '@modelcontextprotocol/node';
import { isLegacyRequest } from '@modelcontextprotocol/server';
import { type Config, ConfigError } from './config.js';
import { logRefusal } from './http/access-log.js';
import { ADMISSION_DEFAULTS, KeyAdmission } from './http/admission.js';
import { Authenticator, type AuthResult, bearerChallenge, resolveAuthMode } from './http/auth.js';
import { banner } from './http/banner.js';
import { readJsonBody } from './http/body.js';
import { type Exchange, Exchanges } from './http/exchanges.js';
import { HostAllowList, hostForUrl, isLoopbackHost, isWildcardHost, OriginAllowList } from './http/guards.js';
import { writeJsonRpcError } from './http/respond.js';
import { LegacySessions } from './http/sessions.js';
import { SharedState } from './http/shared.js';
import { type Tenant, TenantRegistry } from './http/tenants.js';
import { createOAuthGate, type OAuthGate } from './oauth/gate.js';
import { addSecret, redact, withSecrets } from './redact.js';
import { listenRequestUris } from './resources/notifications.js';
import type { ServerDeps } from './server.js';
import { VERSION } from './version.js';

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
export const REQUEST_TIMEOUT_MS = 30_000;
const HEALTH_PATH = '/healthz';
const EXPOSED_HEADERS = 'Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate, Last-Event-ID';
const ALLOWED_HEADERS =
  'Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID';

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Default Host allow-list for a wildcard bind: every local name and address, with the port. */
function wildcardHosts(port: number): string[] {
  const names = new Set<string>(['localhost', '127.0.0.1', '[::1]', hostname().toLowerCase()]);
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) names.add(hostForUrl(a.address.split('%')[0] ?? a.address));
  }
  return [...names].map((n) => `${n}:${port}`);
}

/** Wraps a response so `done` runs when its body has been fully sent or the client went away. */
function onBodyDone(response: Response, done: () => void): Response {
  if (!response.body) {
    done();
    return response;
  }
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  response.body.pipeTo(writable).then(done, done);
  return new Response(readable, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

/** The resource URIs of a `subscriptions/listen` request body, or undefined for any other (or none named). */
function listenUris(body: unknown): string[] | undefined {
  if (body === undefined) return undefined;
  const uris = listenRequestUris(body);
  return uris?.length ? uris : undefined;
}

const isListen = (body: unknown) =>
  !!body && typeof body === 'object' && (body as { method?: unknown }).method === 'subscriptions/listen';

/** Whether a Kernel API key authenticates against the Kernel API (one cheap read). */
async function verifyKernelKey(deps: ServerDeps, apiKey: string): Promise<boolean> {
  try {
    await deps.client.withOptions({ apiKey }).json({ method: 'GET', path: '/browsers', query: { limit: 1 } });
    return true;
  } catch (err) {
    deps.logger.debug('a Kernel API key was refused', { error: (err as Error).message });
    return false;
  }
}

/** Writes a web-standard Response (the SDK's OAuth challenges) to a node response. */
async function writeWebResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => {
    headers[key] = value;
  });
  res.writeHead(response.status, headers).end(Buffer.from(await response.arrayBuffer()));
}

export async function startHttpServer(config: Config, deps: ServerDeps): Promise<HttpServerHandle> {
  const { logger } = deps;
  const mode = resolveAuthMode(config);
  addSecret(config.httpToken, { pin: true });
  const authenticator = new Authenticator(mode, config.httpToken);
  if (mode === 'passthrough' && config.httpToken) {
    logger.warn('KERNEL_MCP_HTTP_TOKEN is not used with --auth passthrough: clients authenticate with their own key');
  }
  if (mode === 'passthrough' && config.apiKey) {
    logger.info('KERNEL_API_KEY is not used with --auth passthrough: each client reaches the API with its own key');
  }

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
  /** --auth oauth: the resource server (and the built-in authorization server), made once the port is known. */
  let oauth: OAuthGate | undefined;
  const tenantSweeper = setInterval(() => tenants.sweep(), 30_000);
  tenantSweeper.unref();
  const nodeHandlers = new WeakMap<Tenant, NodeMcpRequestHandler>();

  /** Routes a request whose body (if any) was read and parsed once already (`parsedBody`). */
  async function route(tenant: Tenant, request: Request, parsedBody: unknown): Promise<Response> {
    if (await isLegacyRequest(request, parsedBody, { maxRequestBodySize: config.maxBodyBytes })) {
      return sessions.handle(tenant, request, parsedBody);
    }
    const uris = listenUris(parsedBody);
    const response = await tenant.modern.fetch(request, parsedBody === undefined ? undefined : { parsedBody });
    if (!uris || !response.body || !response.headers.get('content-type')?.includes('text/event-stream')) {
      return response;
    }
    // An open listen stream: the resource layer keeps its URIs' upstream streams open until it closes.
    return onBodyDone(response, tenant.port.subscriptions.retain(uris));
  }

  function nodeHandlerFor(tenant: Tenant): NodeMcpRequestHandler {
    let h = nodeHandlers.get(tenant);
    if (!h) {
      h = toNodeHandler(
        { fetch: (request, options) => route(tenant, request, options?.parsedBody) },
        {
          maxRequestBodySize: config.maxBodyBytes,
          onerror: (err) => logger.error('MCP request failed', { error: err.stack ?? err.message }),
        },
      );
      nodeHandlers.set(tenant, h);
    }
    return h;
  }

  // The Host defaults name the port, known once listening; until then nothing is served.
  let hosts = new HostAllowList([]);
  const origins = new OriginAllowList(config.allowedOrigins ?? OriginAllowList.defaults());
  const exchanges = new Exchanges(config);
  let stopping = false;

  function health(req: IncomingMessage, res: ServerResponse) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    // Redis lost (--redis-url): 503 with the reason, so a load balancer sends clients to instances that share.
    const sharing = shared?.health() ?? { ok: true };
    const status = stopping ? 'stopping' : sharing.ok ? 'ok' : 'degraded';
    const body = JSON.stringify(sharing.ok ? { status } : { status, reason: sharing.reason });
    res.writeHead(status === 'ok' ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === HEALTH_PATH) return health(req, res);
    if (oauth && path !== MCP_PATH && path.startsWith('/.well-known/') !== path.startsWith('/oauth/')) {
      if (!hosts.allows(single(req.headers.host))) {
        return writeJsonRpcError(res, 403, -32000, 'Forbidden: Host header is not allowed');
      }
      if (await oauth.serve(req, res, path)) return;
    }
    if (path !== MCP_PATH) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
      return;
    }
    if (stopping) {
      return writeJsonRpcError(res, 503, -32000, 'Server is shutting down', {
        'retry-after': '1',
        connection: 'close',
      });
    }
    const host = single(req.headers.host);
    if (!hosts.allows(host)) {
      return writeJsonRpcError(res, 403, -32000, 'Forbidden: Host header is not allowed');
    }
    const origin = single(req.headers.origin);
    if (!origins.allows(origin)) {
      return writeJsonRpcError(res, 403, -32000, 'Forbidden: Origin is not allowed');
    }
    if (origin) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
      res.setHeader('vary', 'Origin');
    }
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
        'access-control-allow-headers': single(req.headers['access-control-request-headers']) ?? ALLOWED_HEADERS,
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    if (method !== 'POST' && method !== 'GET' && method !== 'DELETE') {
      return writeJsonRpcError(res, 405, -32000, 'Method not allowed', { allow: 'GET, POST, DELETE, OPTIONS' });
    }
    let auth: Extract<AuthResult, { ok: true }>;
    if (oauth) {
      const checked = await oauth.authenticate(single(req.headers.authorization));
      if (!checked.ok) return writeWebResponse(res, checked.response);
      auth = checked;
    } else {
      const checked = authenticator.check(single(req.headers.authorization));
      if (!checked.ok) {
        return writeJsonRpcError(res, 401, -32000, checked.message, { 'www-authenticate': checked.challenge });
      }
      auth = checked;
    }
    const declared = Number(single(req.headers['content-length']));
    if (Number.isFinite(declared) && declared > config.maxBodyBytes) {
      return writeJsonRpcError(
        res,
        413,
        -32000,
        `Payload Too Large: request body must not exceed ${config.maxBodyBytes} bytes`,
        { connection: 'close' },
      );
    }
    const found = await tenants.acquire(auth);
    if (!('id' in found)) {
      const headers: Record<string, string> =
        found.status === 401
          ? { 'www-authenticate': bearerChallenge(found.message, 'invalid_token') }
          : { 'retry-after': '5' };
      return writeJsonRpcError(res, found.status, -32000, found.message, headers);
    }
    const tenant = found;
    // A GET is a stream; a POST is a request while its body is read, and a stream if it opens a listen.
    let exchange: Exchange | undefined;
    if (method === 'GET') {
      const started = exchanges.startStream(res, tenant);
      if (typeof started === 'string') return writeJsonRpcError(res, 503, -32000, started, { 'retry-after': '5' });
      exchange = started;
    } else {
      exchange = exchanges.startRequest(res);
      if (!exchange) {
        return writeJsonRpcError(res, 503, -32000, 'Server busy: too many concurrent requests', { 'retry-after': '1' });
      }
    }
    let parsedBody: unknown;
    if (method === 'POST') {
      const body = await readJsonBody(req, config.maxBodyBytes);
      if (!body.ok) {
        return writeJsonRpcError(
          res,
          body.status,
          body.code,
          body.message,
          body.status === 413 ? { connection: 'close' } : {},
        );
      }
      parsedBody = body.value;
      if (isListen(parsedBody)) {
        const started = exchanges.startStream(res, tenant, exchange);
        if (typeof started === 'string') return writeJsonRpcError(res, 503, -32000, started, { 'retry-after': '5' });
      }
    }
    tenant.active++;
    res.once('close', () => {
      tenant.active--;
      tenant.lastUsed = Date.now();
    });
    sessions.track(single(req.headers['mcp-session-id']), tenant, res);
    // A passthrough key is redacted in what is produced for its own client only.
    await withSecrets(tenant.secrets, () => nodeHandlerFor(tenant)(req, exchange.response(), parsedBody));
  }

  // A request (headers and body) must arrive within 30 s: slow bodies cannot hold request slots for long.
  const server = createNodeServer({ requestTimeout: REQUEST_TIMEOUT_MS }, (req, res) => {
    logRefusal(req, res, logger);
    onRequest(req, res).catch((err: unknown) => {
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

  await new Promise<void>((resolve, reject) => {
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
  server.on('error', (err) => logger.error('HTTP server error', { error: err.message }));

  const port = (server.address() as AddressInfo).port;
  if (config.allowedHosts) {
    hosts = new HostAllowList(config.allowedHosts);
  } else if (isWildcardHost(config.host)) {
    hosts = new HostAllowList(wildcardHosts(port));
  } else {
    hosts = new HostAllowList(HostAllowList.defaults(config.host, port));
  }

  const displayHost = isWildcardHost(config.host) ? '127.0.0.1' : hostForUrl(config.host);
  const base = `http://${displayHost}:${port}`;
  const url = `${base}${MCP_PATH}`;
  if (mode === 'oauth') {
    try {
      oauth = await createOAuthGate({
        publicUrl: config.publicUrl ?? base,
        ...(config.oauthIssuer ? { externalIssuer: config.oauthIssuer } : {}),
        ...(config.oauthSecret ? { secret: config.oauthSecret } : {}),
        verifyKey: (apiKey) => verifyKernelKey(deps, apiKey),
        accessTokenTtlS: config.oauthTokenTtlS,
        logger,
      });
    } catch (err) {
      server.close();
      throw new ConfigError(`--auth oauth: ${(err as Error).message}`);
    }
  }
  if (!isLoopbackHost(config.host)) {
    logger.warn(
      `serving on ${config.host}, reachable from other machines: put TLS in front (a reverse proxy) and ` +
        'list the names clients use in --allowed-hosts',
    );
  }
  if (config.logLevel !== 'silent') {
    process.stderr.write(
      redact(
        banner({
          url,
          healthUrl: `${base}${HEALTH_PATH}`,
          auth: mode,
          version: VERSION,
          target: deps.simulated ? 'the built-in Kernel API simulator (SIMULATED)' : config.baseUrl,
          tools: deps.selection?.tools.length ?? 0,
        }),
      ) + '\n',
    );
  }
  logger.info(`listening on ${url}`, { auth: mode });

  /**
   * Draining (SIGTERM): still listening, /healthz answers 503 and new MCP requests 503 with Retry-After (`stopping`),
   * so a load balancer takes the instance out while requests in flight finish. It lasts `--shutdown-drain-ms`, then
   * as long as requests other than streams are still running (up to `--timeout-ms`).
   */
  let cutShort: (() => void) | undefined;
  async function drain() {
    if (config.shutdownDrainMs <= 0) return;
    logger.info('draining before shutdown: /healthz answers 503, new requests 503', {
      drainMs: config.shutdownDrainMs,
      requests: exchanges.requests,
      streams: exchanges.streams,
    });
    const cut = new Promise<void>((resolve) => {
      cutShort = resolve;
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

  let closing: Promise<void> | undefined;
  return {
    url,
    host: config.host,
    port,
    close(options = {}) {
      if (closing && !options.drain) cutShort?.();
      closing ??= (async () => {
        stopping = true;
        clearInterval(tenantSweeper);
        if (options.drain) await drain();
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
    },
  };
}
