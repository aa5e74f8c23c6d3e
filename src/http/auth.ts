/**
 * HTTP authentication, checked before any MCP processing:
 * - `token`: the server holds the Kernel API key; every client sends `Authorization: Bearer <KERNEL_MCP_HTTP_TOKEN>`.
 * - `passthrough`: every client sends its own Kernel API key as its bearer token, and its requests reach the API
 *   with that key and no other. Clients are told apart by a SHA-256 hash of the key, never by the key itself.
 * - `none`: no credentials; only allowed on a loopback address.
 * Comparisons are constant-time (`timingSafeEqual` on SHA-256 digests, so lengths never leak either).
 */
import { hash, timingSafeEqual } from 'node:crypto';
import { type Config, ConfigError } from '../config.js';
import { selfCommand } from '../invocation.js';
import { isLoopbackHost } from './guards.js';

export type AuthMode = 'token' | 'passthrough' | 'oauth' | 'none';

export type AuthResult =
  | { ok: true; mode: 'token' | 'none'; readOnly?: boolean }
  | { ok: true; mode: 'passthrough'; apiKey: string; keyHash: string; readOnly?: boolean }
  | { ok: false; challenge: string; message: string };

const REALM = 'kernel-mcp';

/**
 * A `WWW-Authenticate: Bearer` challenge (RFC 6750) whose `error_description` says what to send: clients that show
 * nothing but "failed to connect" put it in their logs. `error` only when credentials were sent (invalid_token).
 */
export function bearerChallenge(description: string, error?: 'invalid_token'): string {
  const quoted = description.replace(/[\\"]/g, '').replace(/[^\x20-\x7e]/g, ' ');
  return `Bearer realm="${REALM}"${error ? `, error="${error}"` : ''}, error_description="${quoted}"`;
}
/** RFC 6750 token68-ish: what an API key or a generated token looks like; anything else is refused unread. */
const TOKEN_SHAPE = /^[A-Za-z0-9._~+/=-]{8,4096}$/;

export function sha256(value: string): Buffer {
  // One call, no Hash object: this runs for every request.
  return hash('sha256', value, 'buffer');
}

/**
 * The auth mode for a config: `--auth` when given, otherwise `token` when KERNEL_MCP_HTTP_TOKEN is set and `none`
 * otherwise. Throws ConfigError for combinations that would be unsafe or could not work.
 */
export function resolveAuthMode(config: Config): AuthMode {
  const mode: AuthMode = config.auth ?? (config.httpToken ? 'token' : 'none');
  if (mode === 'token' && !config.httpToken) {
    throw new ConfigError(
      '--auth token needs a token: set KERNEL_MCP_HTTP_TOKEN (at least 16 characters, e.g. `openssl rand -hex 32`).',
    );
  }
  if (mode === 'none' && !isLoopbackHost(config.host)) {
    throw new ConfigError(
      `refusing to serve HTTP on ${config.host} without authentication: anyone who can reach it could use your ` +
        'Kernel account. Set KERNEL_MCP_HTTP_TOKEN (clients then send `Authorization: Bearer <token>`), use ' +
        '`--auth passthrough` (each client sends its own Kernel API key), or bind to 127.0.0.1.',
    );
  }
  if (mode === 'oauth') {
    if (!config.oauthIssuer && !config.oauthSecret) {
      throw new ConfigError(
        '--auth oauth needs KERNEL_MCP_OAUTH_SECRET (at least 32 characters, e.g. `openssl rand -hex 32`) for the ' +
          'built-in authorization server, or --oauth-issuer URL for an external one.',
      );
    }
    const publicUrl = new URL(config.publicUrl ?? `http://${config.host}:${config.port}`);
    if (publicUrl.protocol !== 'https:' && !isLoopbackHost(publicUrl.hostname) && !config.tlsTerminated) {
      throw new ConfigError(
        `--auth oauth needs https: ${publicUrl.origin} is not. Set --public-url https://... (the URL clients use), ` +
          'and --tls-terminated when a proxy in front of this server serves https.',
      );
    }
    if (!config.oauthIssuer && config.simulate) {
      throw new ConfigError(
        '--auth oauth signs each person in with their own Kernel API key, which the built-in simulator of --simulate does not accept. Run `kernel-mcp simulator` separately and pass its URL as --base-url, or use --oauth-issuer.',
      );
    }
  }
  if (mode === 'passthrough' && config.simulate) {
    throw new ConfigError(
      '--auth passthrough sends each client its own Kernel API key, which the built-in simulator of --simulate does ' +
        `not accept. Run \`${selfCommand()} simulator\` separately and pass its URL as --base-url instead.`,
    );
  }
  return mode;
}

function bearer(header: string | undefined): string | undefined {
  // Stryker disable next-line ConditionalExpression: equivalent (the pattern matches no empty or missing header).
  if (!header) return undefined;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m?.[1];
}

export class Authenticator {
  readonly #tokenHash: Buffer | undefined;

  constructor(
    readonly mode: AuthMode,
    httpToken?: string,
  ) {
    this.#tokenHash = httpToken ? sha256(httpToken) : undefined;
  }

  check(authorization: string | undefined): AuthResult {
    if (this.mode === 'none') return { ok: true, mode: 'none' };
    const presented = bearer(authorization);
    if (presented === undefined) {
      const token = this.mode === 'token';
      return {
        ok: false,
        challenge: bearerChallenge(
          token
            ? 'No bearer token: send Authorization: Bearer <KERNEL_MCP_HTTP_TOKEN>, the token the server was started with'
            : 'No bearer token: send your Kernel API key as Authorization: Bearer <key>',
        ),
        message: token
          ? 'Unauthorized: send `Authorization: Bearer <KERNEL_MCP_HTTP_TOKEN>`'
          : 'Unauthorized: send your Kernel API key as `Authorization: Bearer <key>`',
      };
    }
    const invalid: AuthResult = {
      ok: false,
      challenge: bearerChallenge(
        this.mode === 'token'
          ? 'The bearer token is not valid: send the KERNEL_MCP_HTTP_TOKEN the server was started with'
          : 'The bearer token is not a Kernel API key',
        'invalid_token',
      ),
      message: 'Unauthorized: the bearer token is not valid',
    };
    if (this.mode === 'token') {
      const expected = this.#tokenHash;
      if (!expected || !timingSafeEqual(sha256(presented), expected)) return invalid;
      return { ok: true, mode: 'token' };
    }
    if (!TOKEN_SHAPE.test(presented)) return invalid;
    return { ok: true, mode: 'passthrough', apiKey: presented, keyHash: sha256(presented).toString('hex') };
  }
}
