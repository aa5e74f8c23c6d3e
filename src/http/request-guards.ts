/**
 * Everything in front of MCP processing, in order: shutting down (503), the Host and Origin allow-lists (403), CORS
 * and its preflight, the method (405), authentication (401: the token or passthrough authenticator, or the OAuth
 * resource server), the declared body size (413). The bounds on requests and streams come after, per tenant.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';
import type { Config } from '../config.js';
import type { OAuthGate } from '../oauth/gate.js';
import type { Authenticator, AuthResult } from './auth.js';
import { HostAllowList, hostForUrl, isWildcardHost, OriginAllowList } from './guards.js';
import { writeJsonRpcError, writeWebResponse } from './respond.js';

const EXPOSED_HEADERS = 'Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate, Last-Event-ID';
const ALLOWED_HEADERS =
  'Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID';

export function single(value: string | string[] | undefined): string | undefined {
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

export type Admitted = Extract<AuthResult, { ok: true }>;

export class RequestGuards {
  /** The Host defaults name the port, known once listening (see `listening`); until then nothing is admitted. */
  hosts = new HostAllowList([]);
  readonly origins: OriginAllowList;
  /** Set when shutdown begins (a drain included): new MCP requests are refused. */
  stopping = false;
  /** --auth oauth: the resource server that checks bearer tokens instead of the authenticator (set once listening). */
  oauth: OAuthGate | undefined;

  constructor(
    readonly config: Config,
    readonly authenticator: Authenticator,
  ) {
    this.origins = new OriginAllowList(config.allowedOrigins ?? OriginAllowList.defaults());
  }

  /** Sets the Host allow-list once the port is known. */
  listening(port: number): void {
    const { config } = this;
    if (config.allowedHosts) this.hosts = new HostAllowList(config.allowedHosts);
    else if (isWildcardHost(config.host)) this.hosts = new HostAllowList(wildcardHosts(port));
    else this.hosts = new HostAllowList(HostAllowList.defaults(config.host, port));
  }

  /** Refuses (403) a request whose Host header is not allowed; true when it may go on. */
  allowsHost(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.hosts.allows(single(req.headers.host))) return true;
    writeJsonRpcError(res, 403, -32000, 'Forbidden: Host header is not allowed');
    return false;
  }

  /**
   * Checks a request to the MCP endpoint. Answers it and returns undefined when it may not go on (or was a CORS
   * preflight); otherwise returns who it is.
   */
  async admit(req: IncomingMessage, res: ServerResponse): Promise<Admitted | undefined> {
    const { config } = this;
    if (this.stopping) {
      writeJsonRpcError(res, 503, -32000, 'Server is shutting down', { 'retry-after': '1', connection: 'close' });
      return undefined;
    }
    if (!this.allowsHost(req, res)) return undefined;
    const origin = single(req.headers.origin);
    if (!this.origins.allows(origin)) {
      writeJsonRpcError(res, 403, -32000, 'Forbidden: Origin is not allowed');
      return undefined;
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
      return undefined;
    }
    if (method !== 'POST' && method !== 'GET' && method !== 'DELETE') {
      writeJsonRpcError(res, 405, -32000, 'Method not allowed', { allow: 'GET, POST, DELETE, OPTIONS' });
      return undefined;
    }
    const auth = await this.authenticate(req, res);
    if (!auth) return undefined;
    const declared = Number(single(req.headers['content-length']));
    if (Number.isFinite(declared) && declared > config.maxBodyBytes) {
      writeJsonRpcError(
        res,
        413,
        -32000,
        `Payload Too Large: request body must not exceed ${config.maxBodyBytes} bytes`,
        {
          connection: 'close',
        },
      );
      return undefined;
    }
    return auth;
  }

  /** The bearer token checked by the OAuth resource server, or else by the authenticator; a 401 when refused. */
  async authenticate(req: IncomingMessage, res: ServerResponse): Promise<Admitted | undefined> {
    const authorization = single(req.headers.authorization);
    if (this.oauth) {
      const checked = await this.oauth.authenticate(authorization);
      if (checked.ok) return checked;
      await writeWebResponse(res, checked.response);
      return undefined;
    }
    const checked = this.authenticator.check(authorization);
    if (checked.ok) return checked;
    writeJsonRpcError(res, 401, -32000, checked.message, { 'www-authenticate': checked.challenge });
    return undefined;
  }
}
