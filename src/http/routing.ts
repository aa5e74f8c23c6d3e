/**
 * An admitted MCP request, from its tenant to an SDK handler: the tenant (its own client, hub and handler), the bounds
 * on requests and streams, the body read and parsed once, then the era, by the SDK's own classifier
 * `isLegacyRequest`: 2026-07-28 traffic goes to the tenant's stateless `createMcpHandler` (an open listen stream
 * holds its URIs in the tenant's subscription set until it closes); 2025-era traffic to the session transports.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type NodeMcpRequestHandler, toNodeHandler } from '@modelcontextprotocol/node';
import { isLegacyRequest } from '@modelcontextprotocol/server';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { withSecrets } from '../redact.js';
import { listenRequestUris } from '../resources/notifications.js';
import { bearerChallenge } from './auth.js';
import { readJsonBody } from './body.js';
import type { Exchange, Exchanges } from './exchanges.js';
import { type Admitted, single } from './request-guards.js';
import { writeJsonRpcError } from './respond.js';
import type { LegacySessions } from './sessions.js';
import type { Tenant, TenantRegistry } from './tenants.js';

export interface RouterParts {
  config: Config;
  logger: Logger;
  tenants: TenantRegistry;
  sessions: LegacySessions;
  exchanges: Exchanges;
}

export class Router {
  readonly #handlers = new WeakMap<Tenant, NodeMcpRequestHandler>();

  constructor(readonly parts: RouterParts) {}

  /** Serves one admitted request to the MCP endpoint, answering it with an error when a bound refuses it. */
  async serve(req: IncomingMessage, res: ServerResponse, auth: Admitted): Promise<void> {
    const { config, tenants, sessions } = this.parts;
    const found = await tenants.acquire(auth);
    if (!('id' in found)) {
      const headers: Record<string, string> =
        found.status === 401
          ? { 'www-authenticate': bearerChallenge(found.message, 'invalid_token') }
          : { 'retry-after': '5' };
      return writeJsonRpcError(res, found.status, -32000, found.message, headers);
    }
    const tenant = found;
    const exchange = this.#start((req.method ?? 'GET') === 'GET', res, tenant);
    if (!exchange) return;
    let parsedBody: unknown;
    if (req.method === 'POST') {
      const body = await readJsonBody(req, config.maxBodyBytes);
      if (!body.ok) {
        const headers: Record<string, string> = body.status === 413 ? { connection: 'close' } : {};
        return writeJsonRpcError(res, body.status, body.code, body.message, headers);
      }
      parsedBody = body.value;
      if (isListen(parsedBody)) {
        const started = this.parts.exchanges.startStream(res, tenant, exchange);
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
    await withSecrets(tenant.secrets, () => this.#handlerFor(tenant)(req, exchange.response(), parsedBody));
  }

  /**
   * Counts the exchange: a GET is a stream; a POST is a request while its body is read (and a stream once it opens a
   * listen). Answers 503 and returns undefined at a bound.
   */
  #start(stream: boolean, res: ServerResponse, tenant: Tenant): Exchange | undefined {
    const { exchanges } = this.parts;
    if (stream) {
      const started = exchanges.startStream(res, tenant);
      if (typeof started !== 'string') return started;
      writeJsonRpcError(res, 503, -32000, started, { 'retry-after': '5' });
      return undefined;
    }
    const exchange = exchanges.startRequest(res);
    if (!exchange) {
      writeJsonRpcError(res, 503, -32000, 'Server busy: too many concurrent requests', { 'retry-after': '1' });
    }
    return exchange;
  }

  #handlerFor(tenant: Tenant): NodeMcpRequestHandler {
    let handler = this.#handlers.get(tenant);
    if (!handler) {
      const { config, logger } = this.parts;
      handler = toNodeHandler(
        { fetch: (request, options) => this.route(tenant, request, options?.parsedBody) },
        {
          maxRequestBodySize: config.maxBodyBytes,
          onerror: (err) => logger.error('MCP request failed', { error: err.stack ?? err.message }),
        },
      );
      this.#handlers.set(tenant, handler);
    }
    return handler;
  }

  /** Routes a request whose body (if any) was read and parsed once already (`parsedBody`). */
  async route(tenant: Tenant, request: Request, parsedBody: unknown): Promise<Response> {
    const { config, sessions } = this.parts;
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
}

/** The resource URIs of a `subscriptions/listen` request body, or undefined for any other (or none named). */
function listenUris(body: unknown): string[] | undefined {
  if (body === undefined) return undefined;
  const uris = listenRequestUris(body);
  return uris?.length ? uris : undefined;
}

/** Whether a request body opens a 2026-07-28 listen stream. */
const isListen = (body: unknown) =>
  !!body && typeof body === 'object' && (body as { method?: unknown }).method === 'subscriptions/listen';

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
