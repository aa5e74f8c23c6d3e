/**
 * `--auth oauth`: the built-in authorization server for "bring your own Kernel key", on `oidc-provider` (a certified,
 * standards-tested OAuth 2.1 / OpenID provider): RFC 8414 metadata, RFC 7591 dynamic client registration, Client ID
 * Metadata Documents (a client id that is an https URL is fetched and validated as the client's metadata),
 * authorization code with PKCE (S256 only), refresh tokens with rotation, RFC 8707 resource indicators (tokens are
 * for this MCP endpoint only) and revocation. Its one page asks the person for their Kernel API key, checks it once
 * against the Kernel API, shows what the client asks for, and binds the grant to that key: the account is the key's
 * SHA-256 (the passthrough tenant id), the key itself is sealed in the vault. Its state (clients, grants, codes, tokens,
 * sessions) lives in memory (a restart signs everyone out), or with `--redis-url` in Redis (redis-store.ts), shared by
 * every instance and kept across restarts; what it signs is signed with a key derived from the secret, the same on
 * every instance.
 */
import { createECDH, createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { isUnavailable, redisAdapter, unavailableMessage } from './redis-store.js';
import type { KeyVault } from './vault.js';

export const SCOPES = ['kernel:read', 'kernel:write'] as const;
export const ACCESS_TOKEN_TTL_S = 600;
export const REFRESH_TOKEN_TTL_S = 14 * 24 * 3600;

export interface AuthorizationServerOptions {
  /** The public origin, e.g. https://mcp.example.com (the issuer). */
  issuer: string;
  /** The MCP endpoint: the one resource tokens are issued for. */
  resource: string;
  /** KERNEL_MCP_OAUTH_SECRET: cookie signing, CSRF tokens and (in the vault) key encryption. */
  secret: string;
  vault: KeyVault;
  /** Checks a Kernel API key against the Kernel API (true when it authenticates). */
  verifyKey(apiKey: string): Promise<boolean>;
  logger: Logger;
  /** Access token lifetime, seconds. */
  accessTokenTtlS?: number;
  /** Client ID Metadata Documents may be served from loopback http:// URLs (tests and local clients only). */
  allowLoopbackMetadataUrls?: boolean;
  /** --redis-url: the state in Redis (shared and durable) instead of memory, and whether Redis is reachable. */
  shared?: { redis: Redis; health(): StoreHealth };
}

export type StoreHealth = { ok: true } | { ok: false; reason: string };

type Payload = Record<string, unknown>;
/** oidc-provider's storage adapter contract (see its lib/adapters/memory_adapter.js). */
interface StorageAdapter {
  upsert(id: string, payload: Payload, expiresIn?: number): Promise<void>;
  find(id: string): Promise<Payload | undefined>;
  findByUid(uid: string): Promise<Payload | undefined>;
  findByUserCode(userCode: string): Promise<Payload | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

export interface AccessTokenInfo {
  clientId: string;
  accountId: string;
  scopes: string[];
  resource: string | undefined;
  expiresAt: number;
}

/** An oidc-provider storage adapter over one bounded Map per model, with expiry. */
function memoryAdapter(limit = 100_000): new (name: string) => StorageAdapter {
  const maps = new Map<string, Map<string, { payload: Record<string, unknown>; expires?: number }>>();
  const grants = new Map<string, Set<string>>();
  const uids = new Map<string, string>();
  const codes = new Map<string, string>();
  return class MemoryAdapter {
    readonly #map: Map<string, { payload: Record<string, unknown>; expires?: number }>;
    constructor(readonly name: string) {
      const m = maps.get(name) ?? new Map();
      maps.set(name, m);
      this.#map = m;
    }
    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
      this.#map.set(id, { payload, ...(expiresIn ? { expires: Date.now() + expiresIn * 1000 } : {}) });
      while (this.#map.size > limit) this.#map.delete(this.#map.keys().next().value as string);
      const grantId = payload.grantId as string | undefined;
      if (grantId) {
        const set = grants.get(grantId) ?? new Set<string>();
        grants.set(grantId, set);
        set.add(`${this.name}:${id}`);
      }
      if (typeof payload.uid === 'string') uids.set(payload.uid, id);
      if (typeof payload.userCode === 'string') codes.set(payload.userCode, id);
    }
    async find(id: string) {
      const e = this.#map.get(id);
      if (!e) return undefined;
      if (e.expires && e.expires < Date.now()) {
        this.#map.delete(id);
        return undefined;
      }
      return e.payload;
    }
    async findByUid(uid: string) {
      const id = uids.get(uid);
      return id ? this.find(id) : undefined;
    }
    async findByUserCode(code: string) {
      const id = codes.get(code);
      return id ? this.find(id) : undefined;
    }
    async consume(id: string) {
      const e = this.#map.get(id);
      if (e) e.payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      this.#map.delete(id);
    }
    async revokeByGrantId(grantId: string) {
      for (const key of grants.get(grantId) ?? []) {
        const [name, ...rest] = key.split(':');
        maps.get(name as string)?.delete(rest.join(':'));
      }
      grants.delete(grantId);
    }
  };
}

function isLoopbackUrl(url: URL): boolean {
  return ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

/** Fetches a Client ID Metadata Document: bounded in size and time, and its client_id must be its own URL. */
async function fetchClientMetadata(url: string, allowLoopback: boolean): Promise<Record<string, unknown> | undefined> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const secure =
    parsed.protocol === 'https:' || (allowLoopback && parsed.protocol === 'http:' && isLoopbackUrl(parsed));
  if (!secure || parsed.pathname === '/' || parsed.hash || parsed.username) return undefined;
  const res = await fetch(parsed, { redirect: 'error', signal: AbortSignal.timeout(5000) }).catch(() => undefined);
  if (!res?.ok) return undefined;
  const text = await res.text();
  if (text.length > 16 * 1024) return undefined;
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (doc.client_id !== url || !Array.isArray(doc.redirect_uris)) return undefined;
  // A metadata document names a public client: no secret, and PKCE carries the proof.
  return {
    client_id: url,
    client_name: typeof doc.client_name === 'string' ? doc.client_name : parsed.host,
    redirect_uris: doc.redirect_uris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    ...(typeof doc.client_uri === 'string' ? { client_uri: doc.client_uri } : {}),
  };
}

/**
 * The ES256 key the provider signs with (its ID tokens; access tokens are opaque), derived from the secret so every
 * instance publishes the same JWKS. HKDF output outside the curve's range (odds about 2^-32) moves to the next one.
 */
function signingKey(secret: string): Record<string, string> {
  for (let i = 0; ; i++) {
    const d = Buffer.from(hkdfSync('sha256', secret, 'kernel-mcp', `oauth signing key v1 ${i}`, 32));
    const ecdh = createECDH('prime256v1');
    try {
      ecdh.setPrivateKey(d);
    } catch {
      continue;
    }
    const point = ecdh.getPublicKey();
    return {
      kty: 'EC',
      crv: 'P-256',
      d: d.toString('base64url'),
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33).toString('base64url'),
      alg: 'ES256',
      use: 'sig',
      kid: createHash('sha256').update(point).digest('base64url').slice(0, 16),
    };
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  // No framing (clickjacking), no scripts, forms post only here.
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
};

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1b1b1f}
input[type=password]{width:100%;padding:.5rem;font:inherit;border:1px solid #ccc;border-radius:6px}
button{font:inherit;padding:.5rem 1rem;border-radius:6px;border:1px solid #4f46e5;background:#4f46e5;color:#fff;cursor:pointer}
.scope{display:block;margin:.25rem 0}.error{color:#b91c1c}.muted{color:#6b6b76;font-size:13px}</style></head><body>${body}</body></html>`;
}

export interface AuthorizationServer {
  /** Serves the provider's endpoints and the key page; false when the path is not one of them. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
  /** RFC 8414 metadata, as the provider publishes it (plus the Client ID Metadata Document flag). */
  metadata(): Promise<Record<string, unknown>>;
  /** An access token's grant, or undefined when it is unknown, expired or revoked. */
  introspect(token: string): Promise<AccessTokenInfo | undefined>;
}

export async function createAuthorizationServer(options: AuthorizationServerOptions): Promise<AuthorizationServer> {
  const { default: Provider, errors } = await import('oidc-provider');
  const { issuer, resource, secret, vault, logger, shared } = options;
  const allowLoopback = options.allowLoopbackMetadataUrls ?? false;
  const accessTtl = options.accessTokenTtlS ?? ACCESS_TOKEN_TTL_S;
  // Redis unreachable: the provider answers 503 temporarily_unavailable with the reason (never a fall-back to memory).
  const unavailable = (reason: string) =>
    Object.assign(new errors.TemporarilyUnavailable(reason), { status: 503, statusCode: 503 });
  const Adapter: new (name: string) => StorageAdapter = shared
    ? redisAdapter(shared.redis, unavailable)
    : memoryAdapter();
  // Client ID Metadata Documents: an unknown client id that is a URL is fetched and kept like a registration.
  class ClientAdapter extends Adapter {
    override async find(id: string) {
      const found = await super.find(id);
      if (found || !/^https?:\/\//.test(id)) return found;
      const metadata = await fetchClientMetadata(id, allowLoopback);
      if (metadata) await this.upsert(id, metadata, 24 * 3600);
      return metadata;
    }
  }
  const jwk = signingKey(secret);

  const provider = new Provider(issuer, {
    adapter: function adapter(name: string) {
      return name === 'Client' ? new ClientAdapter(name) : new Adapter(name);
    } as never,
    clients: [],
    jwks: { keys: [jwk] },
    cookies: { keys: [createHmac('sha256', secret).update('cookies').digest('hex')] },
    // kernel:read and kernel:write are scopes of the provider (clients register them) and of the resource (its
    // access tokens carry them): a grant holds both.
    scopes: [...SCOPES, 'openid', 'offline_access'],
    claims: { openid: ['sub'] },
    responseTypes: ['code'],
    pkce: { methods: ['S256'], required: () => true },
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      id_token_signed_response_alg: 'ES256',
    },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => resource,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx: unknown, indicator: string) => {
          if (indicator.replace(/\/$/, '') !== resource.replace(/\/$/, '')) throw new errors.InvalidTarget();
          return {
            scope: SCOPES.join(' '),
            audience: resource,
            accessTokenTTL: accessTtl,
            accessTokenFormat: 'opaque',
          };
        },
      },
    },
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }) =>
      client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: () => true,
    // Tokens live by their own lifetimes, not by the authorization page's browser session (an hour): by default a
    // grant without offline_access ends with that session, and a connector that does not ask for it would be signed
    // out after an hour. The session is only the page's; the grant is what the person allowed.
    expiresWithSession: async () => false,
    ttl: {
      AccessToken: accessTtl,
      AuthorizationCode: 60,
      Interaction: 600,
      Session: 3600,
      Grant: REFRESH_TOKEN_TTL_S,
      RefreshToken: REFRESH_TOKEN_TTL_S,
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/oauth/interaction/${interaction.uid}` },
    routes: {
      authorization: '/oauth/authorize',
      token: '/oauth/token',
      registration: '/oauth/register',
      revocation: '/oauth/revoke',
      jwks: '/oauth/jwks',
      end_session: '/oauth/logout',
      userinfo: '/oauth/userinfo',
      pushed_authorization_request: '/oauth/par',
    },
    findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
    renderError: async (ctx: { type: string; body: string }, out: Record<string, string>) => {
      ctx.type = 'html';
      ctx.body = page(
        'Authorization error',
        `<h1>Authorization error</h1><p class="error">${escapeHtml(out.error ?? 'error')}: ${escapeHtml(out.error_description ?? '')}</p>`,
      );
    },
  } as never);
  provider.proxy = true;
  provider.on('server_error', (_ctx: unknown, err: Error) =>
    logger.error('OAuth authorization server error', { error: err.stack ?? err.message }),
  );

  const csrfFor = (uid: string) => createHmac('sha256', secret).update(`csrf:${uid}`).digest('hex');
  const callback = provider.callback();
  const limiter = new RateLimiter(30, 60_000);

  async function keyPage(req: IncomingMessage, res: ServerResponse, uid: string, error?: string) {
    const details = await provider.interactionDetails(req, res);
    logger.debug('OAuth interaction', { prompt: details.prompt?.name, reasons: details.prompt?.reasons?.join(',') });
    const client = await provider.Client.find(String(details.params.client_id));
    const requested = new Set(
      String(details.params.scope ?? '')
        .split(' ')
        .filter(Boolean),
    );
    const wantsWrite = requested.has('kernel:write') || !requested.has('kernel:read');
    const name = escapeHtml(String(client?.clientName ?? details.params.client_id));
    res.writeHead(error ? 400 : 200, PAGE_HEADERS).end(
      page(
        'Connect to Kernel',
        `<h1>Connect ${name} to Kernel</h1>
<p><strong>${name}</strong> asks to use your Kernel account through kernel-mcp:</p>
<span class="scope">✓ read your browser sessions, profiles and other resources (kernel:read)</span>
${wantsWrite ? '<label class="scope"><input type="checkbox" name="write" checked> create, change and delete them (kernel:write)</label>' : ''}
<p class="muted">It will be able to do this until you revoke it. Redirects to ${escapeHtml(String(details.params.redirect_uri))}</p>
${error ? `<p class="error">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/oauth/interaction/${escapeHtml(uid)}">
<input type="hidden" name="csrf" value="${csrfFor(uid)}">
<label for="key">Your Kernel API key</label>
<input id="key" type="password" name="api_key" autocomplete="off" required>
<p class="muted">Checked once with the Kernel API, then stored encrypted; never shown again.</p>
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" style="background:#fff;color:#1b1b1f;border-color:#ccc">Deny</button>
</form>`,
      ),
    );
  }

  async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
    let size = 0;
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > 16 * 1024) throw new Error('form too large');
      chunks.push(chunk as Buffer);
    }
    return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  }

  async function submitKey(req: IncomingMessage, res: ServerResponse, uid: string) {
    const form = await readForm(req);
    const csrf = Buffer.from(form.get('csrf') ?? '');
    const expected = Buffer.from(csrfFor(uid));
    if (csrf.length !== expected.length || !timingSafeEqual(csrf, expected)) {
      res.writeHead(403, PAGE_HEADERS).end(page('Forbidden', '<h1>Forbidden</h1><p>The form is not valid.</p>'));
      return;
    }
    const details = await provider.interactionDetails(req, res);
    if (form.get('decision') === 'deny') {
      await provider.interactionFinished(req, res, {
        error: 'access_denied',
        error_description: 'The person did not allow access',
      });
      return;
    }
    const apiKey = (form.get('api_key') ?? '').trim();
    if (!/^[A-Za-z0-9._~+/=-]{8,4096}$/.test(apiKey) || !(await options.verifyKey(apiKey))) {
      logger.info('OAuth: a Kernel API key did not authenticate; no token issued');
      await keyPage(req, res, uid, 'That key was not accepted by the Kernel API. Check it and try again.');
      return;
    }
    const accountId = await vault.put(apiKey);
    const clientId = String(details.params.client_id);
    const requested = String(details.params.scope ?? '')
      .split(' ')
      .filter((s) => (SCOPES as readonly string[]).includes(s));
    // The person may leave out changes: then the grant is kernel:read only.
    const granted = (requested.length ? requested : [...SCOPES]).filter(
      (s) => s !== 'kernel:write' || form.get('write') === 'on',
    );
    if (!granted.includes('kernel:read')) granted.unshift('kernel:read');
    const grant = new provider.Grant({ accountId, clientId });
    const known = new Set<string>([...SCOPES, 'openid', 'offline_access']);
    grant.addOIDCScope(
      String(details.params.scope ?? '')
        .split(' ')
        .filter((s) => known.has(s) && (s === 'openid' || s === 'offline_access' || granted.includes(s)))
        .join(' '),
    );
    grant.addResourceScope(resource, granted.join(' '));
    // What the client asked for and the person left out is rejected, so the consent prompt is complete.
    const left = requested.filter((s) => !granted.includes(s));
    if (left.length) {
      grant.rejectOIDCScope(left.join(' '));
      grant.rejectResourceScope(resource, left.join(' '));
    }
    const grantId = await grant.save();
    logger.info('OAuth: granted', { client: clientId, account: accountId.slice(0, 8), scopes: granted.join(' ') });
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  }

  return {
    async handle(req, res, path) {
      const health = shared?.health();
      if (health && !health.ok && (path.startsWith('/oauth/') || path === '/.well-known/openid-configuration')) {
        const reason = unavailableMessage(health.reason);
        if (path.startsWith('/oauth/interaction/')) {
          res
            .writeHead(503, { ...PAGE_HEADERS, 'retry-after': '2' })
            .end(page('Unavailable', `<h1>Try again shortly</h1><p>${escapeHtml(reason)}</p>`));
        } else {
          res
            .writeHead(503, { 'content-type': 'application/json', 'cache-control': 'no-store', 'retry-after': '2' })
            .end(JSON.stringify({ error: 'temporarily_unavailable', error_description: reason }));
        }
        return true;
      }
      if (path.startsWith('/oauth/interaction/')) {
        const uid = decodeURIComponent(path.slice('/oauth/interaction/'.length));
        try {
          if (req.method === 'POST') await submitKey(req, res, uid);
          else await keyPage(req, res, uid);
        } catch (err) {
          logger.debug('OAuth interaction failed', { error: (err as Error).message });
          if (!res.headersSent && isUnavailable(err)) {
            res
              .writeHead(503, { ...PAGE_HEADERS, 'retry-after': '2' })
              .end(page('Unavailable', `<h1>Try again shortly</h1><p>${escapeHtml((err as Error).message)}</p>`));
          } else if (!res.headersSent) {
            res
              .writeHead(400, PAGE_HEADERS)
              .end(page('Authorization error', '<h1>This sign-in has expired</h1><p>Start again from your app.</p>'));
          }
        }
        return true;
      }
      const limited = path === '/oauth/register' || path === '/oauth/token';
      if (path.startsWith('/oauth/') || path === '/.well-known/openid-configuration') {
        if (limited && !limiter.take(req.socket.remoteAddress ?? '')) {
          res
            .writeHead(429, { 'content-type': 'application/json', 'retry-after': '60' })
            .end(JSON.stringify({ error: 'slow_down', error_description: 'Too many requests; retry in a minute' }));
          return true;
        }
        await new Promise<void>((resolve) => {
          res.once('finish', resolve);
          res.once('close', resolve);
          callback(req, res);
        });
        return true;
      }
      return false;
    },
    async metadata() {
      const m = await fetchDiscovery(provider);
      return { ...m, client_id_metadata_document_supported: true };
    },
    async introspect(token) {
      const found = await provider.AccessToken.find(token);
      if (!found || found.isExpired) return undefined;
      logger.debug('OAuth: token', { aud: JSON.stringify(found.aud), scope: found.scope });
      return {
        clientId: String(found.clientId),
        accountId: String(found.accountId),
        scopes: [...(found.scopes as Set<string>)],
        resource:
          typeof found.aud === 'string' ? found.aud : Array.isArray(found.aud) ? String(found.aud[0]) : undefined,
        expiresAt: Number(found.exp),
      };
    },
  };
}

/** The provider's own discovery document, read through its handler (so it is exactly what it serves). */
async function fetchDiscovery(provider: {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  issuer: string;
}) {
  const { PassThrough } = await import('node:stream');
  const { IncomingMessage: Req, ServerResponse: Res } = await import('node:http');
  const socket = new PassThrough() as unknown as import('node:net').Socket;
  const req = new Req(socket);
  req.method = 'GET';
  req.url = '/.well-known/openid-configuration';
  req.headers = { host: new URL(provider.issuer).host };
  const res = new Res(req);
  const chunks: Buffer[] = [];
  res.write = ((chunk: Buffer | string) => {
    chunks.push(Buffer.from(chunk));
    return true;
  }) as never;
  const done = new Promise<void>((resolve) => {
    res.end = ((chunk?: Buffer | string) => {
      if (chunk) chunks.push(Buffer.from(chunk));
      resolve();
      return res;
    }) as never;
  });
  provider.callback()(req, res);
  req.push(null);
  await done;
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
}

/** A fixed-window limit per client address, bounded in the addresses it remembers. */
class RateLimiter {
  readonly #hits = new Map<string, { n: number; since: number }>();
  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}
  take(key: string): boolean {
    const now = Date.now();
    const e = this.#hits.get(key);
    if (!e || now - e.since > this.windowMs) {
      this.#hits.delete(key);
      this.#hits.set(key, { n: 1, since: now });
      if (this.#hits.size > 10_000) this.#hits.delete(this.#hits.keys().next().value as string);
      return true;
    }
    e.n++;
    return e.n <= this.max;
  }
}
