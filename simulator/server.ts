/** HTTP core: connection tracking, request recording, faults, routing, auth, parameter/body validation. */
import { createServer, type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { SimContext } from './context.js';
import { ApiError, badRequest } from './errors.js';
import type { Ctx, Headers, Reply, Route } from './http.js';
import { serveLiveView } from './live-view.js';
import { parseMultipart } from './multipart.js';
import { handleProxyPool } from './proxy-pool.js';
import { assertValidBody, operationSpec, readParameters } from './validate.js';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  bodyBytes: number;
  at: number;
}

const MAX_BODY_BYTES = 64 * 1024 * 1024;
export const PROXY_POOL_PREFIX = '/proxies.v1.Proxies/';

interface CompiledRoute {
  route: Route;
  re: RegExp;
  names: string[];
  staticSegments: number;
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  let staticSegments = 0;
  const pattern = route.path
    .split('/')
    .map((seg) => {
      const m = /^\{(\w+)\}$/.exec(seg);
      if (m?.[1]) {
        names.push(m[1]);
        return '([^/]+)';
      }
      if (seg) staticSegments++;
      return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { route, re: new RegExp(`^${pattern}/?$`), names, staticSegments };
}

export class Router {
  private readonly compiled: CompiledRoute[];
  constructor(routes: readonly Route[]) {
    // Literal segments win over parameters (/extensions/from_chrome_store before /extensions/{id_or_name}).
    this.compiled = routes.map(compile).sort((a, b) => b.staticSegments - a.staticSegments);
  }

  match(method: string, path: string): { route: Route; params: Record<string, string> } | { allowed: string[] } | null {
    const allowed: string[] = [];
    for (const c of this.compiled) {
      const m = c.re.exec(path);
      if (!m) continue;
      if (c.route.method !== method) {
        allowed.push(c.route.method);
        continue;
      }
      const params: Record<string, string> = {};
      c.names.forEach((name, i) => {
        params[name] = decodeURIComponent(m[i + 1] ?? '');
      });
      return { route: c.route, params };
    }
    return allowed.length > 0 ? { allowed } : null;
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ApiError(413, 'payload_too_large', `request body exceeds ${MAX_BODY_BYTES} bytes`));
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Writes a complete answer, or (resetNext fault) half of it followed by a socket reset. */
function writeRaw(res: ServerResponse, status: number, headers: Headers, body: Buffer, reset: boolean): void {
  if (!reset) {
    res.writeHead(status, { ...headers, 'content-length': String(body.length) });
    res.end(body);
    return;
  }
  const socket = res.socket;
  const headLines = Object.entries({ ...headers, 'content-length': String(body.length) })
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n');
  const head = Buffer.from(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n${headLines}\r\n\r\n`);
  const all = Buffer.concat([head, body]);
  const cut = body.length > 0 ? head.length + Math.floor(body.length / 2) : Math.floor(head.length / 2);
  if (!socket) {
    res.destroy();
    return;
  }
  socket.write(all.subarray(0, cut), () => socket.destroy());
}

export function sendReply(res: ServerResponse, reply: Reply, requestId: string, reset = false): void {
  if (reply.kind === 'streamed') return;
  const headers: Headers = { 'x-request-id': requestId, ...reply.headers };
  if (reply.kind === 'json') {
    headers['content-type'] = 'application/json; charset=utf-8';
    writeRaw(res, reply.status, headers, Buffer.from(JSON.stringify(reply.body)), reset);
  } else if (reply.kind === 'bytes') {
    headers['content-type'] = reply.contentType;
    writeRaw(res, reply.status, headers, reply.body, reset);
  } else {
    writeRaw(res, reply.status, headers, Buffer.alloc(0), reset);
  }
}

const errorReply = (e: ApiError): Reply => ({ kind: 'json', status: e.status, body: e.body(), headers: e.headers });

const bearerOf = (req: IncomingMessage): string | undefined => {
  const m = /^Bearer\s+(\S.*)$/i.exec(req.headers.authorization ?? '');
  return m?.[1]?.trim();
};

/** Returns the auth failure for this request, or undefined when it may proceed. */
function authFailure(sim: SimContext, req: IncomingMessage, mode: Route['auth']): ApiError | undefined {
  if (mode === 'public') return undefined;
  const token = bearerOf(req);
  const unauthorized = (message: string): ApiError =>
    new ApiError(401, 'unauthorized', message, undefined, undefined, { 'www-authenticate': 'Bearer' });
  if (!token) return unauthorized('missing or malformed Authorization header (expected "Bearer <api key>")');
  const expected = sim.options.apiKey;
  if (expected === undefined || token === expected) return undefined;
  for (const key of sim.state.apiKeys.values()) {
    if (key.key === token && (key.expiresAt === null || Date.parse(key.expiresAt) > Date.now())) return undefined;
  }
  if (mode === 'jwt' && sim.state.jwts.has(token)) return undefined;
  // The refused key is quoted, as an API could: a server passing it on must not show it.
  return unauthorized(`invalid API key ${JSON.stringify(token)}`);
}

function isJsonContentType(ct: string | undefined): boolean {
  if (!ct) return true;
  const base = ct.split(';')[0]?.trim().toLowerCase() ?? '';
  return base === 'application/json' || base.endsWith('+json');
}

async function parseBody(route: Route, req: IncomingMessage, raw: Buffer): Promise<unknown> {
  const spec = operationSpec(route.operationId).body;
  if (!spec) return undefined;
  if (spec.mediaType === 'application/octet-stream') return raw;
  if (spec.mediaType === 'multipart/form-data') return parseMultipart(req.headers['content-type'], raw);
  if (raw.length === 0 || raw.toString('utf8').trim() === '') {
    if (spec.required) throw badRequest('request body is required');
    return {};
  }
  if (!isJsonContentType(req.headers['content-type'])) throw badRequest('Content-Type must be application/json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw badRequest(`invalid JSON body: ${(e as Error).message}`);
  }
  assertValidBody(route.operationId, parsed);
  return parsed;
}

export interface HttpServer {
  server: Server;
  sockets: Set<Socket>;
  requests: RecordedRequest[];
  listen(host: string, port: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * @param maxRecorded the request log keeps at most this many entries (the oldest tenth is dropped when full), so a
 *   long-running simulator does not grow without bound.
 */
export function createHttpServer(sim: SimContext, routes: readonly Route[], maxRecorded = 100_000): HttpServer {
  const router = new Router(routes);
  const sockets = new Set<Socket>();
  const requests: RecordedRequest[] = [];
  let counter = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://simulator');
    const path = url.pathname;
    const requestId = `req_${(++counter).toString().padStart(6, '0')}`;
    let raw: Buffer;
    try {
      raw = await readBody(req);
    } catch (e) {
      if (e instanceof ApiError) sendReply(res, errorReply(e), requestId);
      else res.destroy();
      return;
    }
    requests.push({
      method,
      path,
      query: Object.fromEntries(url.searchParams.entries()),
      headers: { ...req.headers },
      bodyBytes: raw.length,
      at: Date.now(),
    });
    if (requests.length > maxRecorded) requests.splice(0, requests.length - Math.floor(maxRecorded * 0.9));

    if (serveLiveView(sim, req, res, url)) return;
    const decision = sim.faults.decide(method, path);
    if (decision.latencyMs > 0) await sim.timers.sleep(decision.latencyMs);
    if (decision.hang) return; // Never answer; the socket is destroyed when the client gives up or on close().
    if (decision.rateLimit) {
      const seconds = decision.rateLimit.retryAfterSeconds;
      const e = new ApiError(
        429,
        'rate_limited',
        `rate limit exceeded, retry after ${seconds}s`,
        undefined,
        undefined,
        {
          'retry-after': String(seconds),
        },
      );
      sendReply(res, errorReply(e), requestId);
      return;
    }
    if (decision.fail) {
      const status = decision.fail.status;
      const e = new ApiError(status, status === 503 ? 'service_unavailable' : 'internal_error', 'injected failure');
      sendReply(res, errorReply(e), requestId);
      return;
    }

    let route: Route | undefined;
    try {
      if (method === 'POST' && path.startsWith(PROXY_POOL_PREFIX)) {
        const failure = authFailure(sim, req, undefined);
        if (failure) throw failure;
        await handleProxyPool(req, res, raw, sim);
        return;
      }
      const match = router.match(method, path);
      if (!match || 'allowed' in match) {
        const failure = authFailure(sim, req, undefined);
        if (failure) throw failure;
        if (match) {
          throw new ApiError(
            405,
            'method_not_allowed',
            `method ${method} not allowed on ${path}`,
            undefined,
            undefined,
            {
              allow: match.allowed.join(', '),
            },
          );
        }
        throw new ApiError(404, 'not_found', `no route for ${method} ${path}`);
      }
      route = match.route;
      const failure = authFailure(sim, req, route.auth);
      if (failure) throw failure;
      const query = readParameters(route.operationId, match.params, url.searchParams);
      const ctx: Ctx = {
        sim,
        req,
        res,
        route,
        requestId,
        path,
        params: match.params,
        query,
        body: await parseBody(route, req, raw),
        raw,
        reset: decision.reset,
      };
      const reply = await route.handler(ctx);
      sendReply(res, reply, requestId, decision.reset);
    } catch (e) {
      if (res.headersSent || res.destroyed) return;
      let err: ApiError;
      if (e instanceof ApiError) {
        err = e.status === 404 && route?.no404 ? new ApiError(400, 'not_found', e.message) : e;
      } else {
        err = new ApiError(500, 'internal_error', `simulator error: ${(e as Error).message ?? String(e)}`);
      }
      sendReply(res, errorReply(err), requestId, decision.reset);
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err, socket) => {
    socket.destroy();
  });

  return {
    server,
    sockets,
    requests,
    listen(host, port) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address();
          resolve(typeof address === 'object' && address ? address.port : port);
        });
      });
    },
    async close() {
      const socketsClosed = [...sockets].map((s) => new Promise<void>((resolve) => s.once('close', () => resolve())));
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await Promise.all([serverClosed, ...socketsClosed]);
    },
  };
}
