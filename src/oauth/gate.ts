/**
 * `--auth oauth` in front of /mcp: the resource-server half (RFC 9728 protected resource metadata, bearer tokens
 * checked with the SDK's `verifyBearerToken` for audience, expiry and scope, the SDK's challenge on every 401) over one
 * of two token sources:
 * - built in (no --oauth-issuer): kernel-mcp's own authorization server; a token's account is a person's Kernel key
 *   (sealed in the vault), so its requests reach Kernel with that key, in that person's passthrough tenant;
 * - --oauth-issuer URL: any OIDC / OAuth authorization server; JWT access tokens are checked against its JWKS
 *   (`jose`), and requests reach Kernel with the server's own key.
 * `kernel:write` allows every tool; `kernel:read` alone gets the read-only tool set. Tokens are read from the
 * Authorization header only, never from a query string. With `--redis-url` the built-in server's state and the vault
 * live in Redis (redis-store.ts); while Redis is unreachable requests get a 503 naming it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type AuthInfo,
  bearerAuthChallengeResponse,
  buildOAuthProtectedResourceMetadata,
  getOAuthProtectedResourceMetadataUrl,
  OAuthError,
  OAuthErrorCode,
  type OAuthMetadata,
  verifyBearerToken,
} from '@modelcontextprotocol/server';
import type { Logger } from '../log.js';
import {
  type AuthorizationServer,
  type AuthorizationServerOptions,
  createAuthorizationServer,
  REFRESH_TOKEN_TTL_S,
  SCOPES,
} from './authorization-server.js';
import { isUnavailable, RedisSecretStore, unavailableMessage } from './redis-store.js';
import { KeyVault, MemoryStore } from './vault.js';

export type OAuthAuth =
  | { ok: true; mode: 'passthrough'; apiKey: string; keyHash: string; readOnly: boolean }
  | { ok: true; mode: 'token'; readOnly: boolean }
  | { ok: false; response: Response };

export interface OAuthGateOptions {
  /** The public origin clients reach this server at (the built-in issuer, and the resource's origin). */
  publicUrl: string;
  /** --oauth-issuer: an external authorization server; absent: the built-in one. */
  externalIssuer?: string;
  /** KERNEL_MCP_OAUTH_SECRET (built-in only). */
  secret?: string;
  verifyKey(apiKey: string): Promise<boolean>;
  logger: Logger;
  allowLoopbackMetadataUrls?: boolean;
  accessTokenTtlS?: number;
  /** --redis-url: the shared state's connection (built-in server only); absent: memory. */
  shared?: AuthorizationServerOptions['shared'];
}

export interface OAuthGate {
  /** The resource these tokens are for: the /mcp URL. */
  readonly resource: string;
  /** Serves the well-known documents and (built in) the authorization server; false for other paths. */
  serve(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
  authenticate(authorization: string | undefined): Promise<OAuthAuth>;
}

const INSECURE_OK = (url: URL) => ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);

async function externalMetadata(issuer: string): Promise<OAuthMetadata> {
  const base = issuer.replace(/\/$/, '');
  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
    if (res?.ok) {
      const m = (await res.json()) as OAuthMetadata;
      if (m.issuer && m.jwks_uri) return m;
    }
  }
  throw new Error(`--oauth-issuer ${issuer}: no authorization server metadata with a jwks_uri was found there`);
}

/** 503 for a request whose token cannot be checked: the shared store is unreachable (never a fall-back to memory). */
function storeUnavailable(message: string): OAuthAuth {
  return {
    ok: false,
    response: Response.json(
      { jsonrpc: '2.0', id: null, error: { code: -32000, message } },
      { status: 503, headers: { 'retry-after': '2' } },
    ),
  };
}

function scopesOf(claim: unknown): string[] {
  if (typeof claim === 'string') return claim.split(' ').filter(Boolean);
  return Array.isArray(claim) ? claim.map(String) : [];
}

export async function createOAuthGate(options: OAuthGateOptions): Promise<OAuthGate> {
  const origin = options.publicUrl.replace(/\/$/, '');
  const resource = `${origin}/mcp`;
  const resourceUrl = new URL(resource);
  const resourceMetadataUrl = getOAuthProtectedResourceMetadataUrl(resourceUrl);
  const insecure = INSECURE_OK(resourceUrl);

  let as: AuthorizationServer | undefined;
  let vault: KeyVault | undefined;
  let oauthMetadata: OAuthMetadata;
  let verifier: { verifyAccessToken(token: string): Promise<AuthInfo> };

  if (!options.externalIssuer) {
    if (!options.secret) throw new Error('KERNEL_MCP_OAUTH_SECRET is required for the built-in authorization server');
    const { shared } = options;
    vault = new KeyVault(
      options.secret,
      shared ? new RedisSecretStore(shared.redis, REFRESH_TOKEN_TTL_S) : new MemoryStore(),
    );
    as = await createAuthorizationServer({
      issuer: origin,
      resource,
      secret: options.secret,
      vault,
      verifyKey: options.verifyKey,
      logger: options.logger,
      allowLoopbackMetadataUrls: options.allowLoopbackMetadataUrls ?? insecure,
      ...(options.accessTokenTtlS ? { accessTokenTtlS: options.accessTokenTtlS } : {}),
      ...(shared ? { shared } : {}),
    });
    oauthMetadata = (await as.metadata()) as OAuthMetadata;
    const server = as;
    verifier = {
      async verifyAccessToken(token) {
        const info = await server.introspect(token);
        if (!info)
          throw new OAuthError(
            OAuthErrorCode.InvalidToken,
            'The access token is not valid (unknown, expired or revoked)',
          );
        return {
          token,
          clientId: info.clientId,
          scopes: info.scopes,
          expiresAt: info.expiresAt,
          ...(info.resource ? { resource: new URL(info.resource) } : {}),
          extra: { accountId: info.accountId },
        };
      },
    };
  } else {
    const jose = await import('jose');
    oauthMetadata = await externalMetadata(options.externalIssuer);
    const jwks = jose.createRemoteJWKSet(new URL(String(oauthMetadata.jwks_uri)));
    const issuer = String(oauthMetadata.issuer);
    verifier = {
      async verifyAccessToken(token) {
        let payload: Record<string, unknown>;
        try {
          ({ payload } = await jose.jwtVerify(token, jwks, { issuer, audience: resource }));
        } catch (err) {
          throw new OAuthError(OAuthErrorCode.InvalidToken, `The access token is not valid: ${(err as Error).message}`);
        }
        return {
          token,
          clientId: String(payload.client_id ?? payload.azp ?? ''),
          scopes: scopesOf(payload.scope ?? payload.scp),
          expiresAt: Number(payload.exp),
          resource: resourceUrl,
          extra: { subject: payload.sub },
        };
      },
    };
  }

  const protectedResource = buildOAuthProtectedResourceMetadata({
    oauthMetadata,
    resourceServerUrl: resourceUrl,
    scopesSupported: [...SCOPES],
    resourceName: 'kernel-mcp (Kernel cloud browsers)',
    dangerouslyAllowInsecureIssuerUrl: insecure,
  });
  const json = (res: ServerResponse, body: unknown) =>
    res
      .writeHead(200, {
        'content-type': 'application/json',
        'cache-control': 'public, max-age=300',
        'access-control-allow-origin': '*',
      })
      .end(JSON.stringify(body));

  return {
    resource,
    async serve(req, res, path) {
      if (path === '/.well-known/oauth-protected-resource' || path === '/.well-known/oauth-protected-resource/mcp') {
        json(res, protectedResource);
        return true;
      }
      if (as && path === '/.well-known/oauth-authorization-server') {
        json(res, oauthMetadata);
        return true;
      }
      return as ? as.handle(req, res, path) : false;
    },
    async authenticate(authorization) {
      const health = vault ? options.shared?.health() : undefined;
      if (health && !health.ok) return storeUnavailable(unavailableMessage(health.reason));
      let info: AuthInfo;
      try {
        info = await verifyBearerToken(authorization ?? null, {
          verifier,
          expectedResource: resourceUrl,
          resourceMetadataUrl,
        });
      } catch (err) {
        // The provider's error carries the reason as its description (its message is the code).
        if (isUnavailable(err)) {
          const e = err as Error & { error_description?: unknown };
          return storeUnavailable(typeof e.error_description === 'string' ? e.error_description : e.message);
        }
        options.logger.debug('OAuth: bearer token refused', { reason: (err as Error).message });
        return { ok: false, response: bearerAuthChallengeResponse(err, { resourceMetadataUrl }) };
      }
      const write = info.scopes.includes('kernel:write');
      if (!write && !info.scopes.includes('kernel:read')) {
        const err = new OAuthError(OAuthErrorCode.InsufficientScope, 'The token needs kernel:read or kernel:write');
        return {
          ok: false,
          response: bearerAuthChallengeResponse(err, { resourceMetadataUrl, requiredScopes: ['kernel:read'] }),
        };
      }
      if (!vault) return { ok: true, mode: 'token', readOnly: !write };
      const accountId = String(info.extra?.accountId ?? '');
      let apiKey: string | undefined;
      try {
        apiKey = await vault.get(accountId);
      } catch (err) {
        return storeUnavailable(
          unavailableMessage(`Redis did not answer while reading a sealed key (${(err as Error).message})`),
        );
      }
      if (!apiKey) {
        const err = new OAuthError(
          OAuthErrorCode.InvalidToken,
          'The Kernel key behind this token is no longer held; sign in again',
        );
        return { ok: false, response: bearerAuthChallengeResponse(err, { resourceMetadataUrl }) };
      }
      return { ok: true, mode: 'passthrough', apiKey, keyHash: accountId, readOnly: !write };
    },
  };
}
