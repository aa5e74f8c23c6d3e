/**
 * OAuth from the client's side, for tests: an OAuthClientProvider of the kind the MCP SDK clients take (in memory),
 * and a "browser" that walks an authorization URL the way a person's browser would: it follows redirects with its
 * own cookies, reads the authorization page's form, submits it with a Kernel key, and stops at the redirect back to
 * the client, whose query (code, iss, state) it answers. And the client's half of the flow, with the SDK clients of
 * both eras, against any MCP URL (one server, or a load balancer in front of several).
 */
import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttp } from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyHttp } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type AnyClient, type Era, type McpSession, wrapClient } from './mcp.js';

type Tokens = Record<string, unknown>;

export class TestOAuthProvider {
  clientInfo: Record<string, unknown> | undefined;
  savedTokens: Tokens | undefined;
  verifier = '';
  /** The authorization URL the SDK asked the client to open. */
  authorizationUrl: URL | undefined;
  constructor(
    readonly redirect = 'http://127.0.0.1:1/callback',
    readonly scope = 'kernel:read kernel:write',
    readonly clientMetadataUrl?: string,
  ) {}
  get redirectUrl() {
    return this.redirect;
  }
  get clientMetadata() {
    return {
      client_name: 'kernel-mcp tests',
      redirect_uris: [this.redirect],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: this.scope,
    };
  }
  clientInformation() {
    return this.clientInfo as never;
  }
  saveClientInformation(info: Record<string, unknown>) {
    this.clientInfo = info;
  }
  tokens() {
    return this.savedTokens as never;
  }
  saveTokens(tokens: Tokens) {
    this.savedTokens = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
}

/** A cookie jar of name=value pairs per origin (enough for the authorization server's session cookies). */
class Jar {
  readonly #cookies = new Map<string, string>();
  take(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = (pair ?? '').indexOf('=');
      if (i > 0) this.#cookies.set((pair as string).slice(0, i), (pair as string).slice(i + 1));
    }
  }
  header() {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

export interface BrowserResult {
  /** The redirect back to the client (its query holds code or error), when the flow got there. */
  callback?: URL;
  /** The last page shown (an error page, or the form again with a message). */
  page?: string;
  status: number;
}

/**
 * Opens `url`, follows redirects, submits the authorization form with `apiKey` (or denies), and returns where it
 * ended. `redirect` is the client's redirect URI: the walk stops when a redirect points there.
 */
export async function authorizeInBrowser(
  url: URL,
  redirect: string,
  form: { apiKey?: string; decision?: 'allow' | 'deny'; tamperCsrf?: boolean; readOnly?: boolean },
): Promise<BrowserResult> {
  const jar = new Jar();
  let next: URL = url;
  let method = 'GET';
  let body: string | undefined;
  let submitted = false;
  for (let hop = 0; hop < 20; hop++) {
    const res = await fetch(next, {
      method,
      redirect: 'manual',
      headers: {
        cookie: jar.header(),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(body ? { body } : {}),
    });
    jar.take(res);
    const location = res.headers.get('location');
    if (location && res.status >= 300 && res.status < 400) {
      const target = new URL(location, next);
      if (target.href.startsWith(redirect)) return { callback: target, status: res.status };
      next = target;
      method = 'GET';
      body = undefined;
      continue;
    }
    const page = await res.text();
    const action = /<form method="post" action="([^"]+)"/.exec(page)?.[1];
    if (!action || submitted) return { page, status: res.status };
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    next = new URL(action.replace(/&amp;/g, '&'), next);
    method = 'POST';
    const fields = new URLSearchParams({
      csrf: form.tamperCsrf ? `${csrf.slice(0, -2)}00` : csrf,
      api_key: form.apiKey ?? '',
      decision: form.decision ?? 'allow',
    });
    // The page's "allow changes" box is checked unless the person unticks it.
    if (page.includes('name="write"') && !form.readOnly) fields.set('write', 'on');
    body = fields.toString();
    submitted = true;
  }
  throw new Error('too many redirects');
}

/**
 * Connects a client of `era` to `url` through the SDK's OAuth flow, signing in with `apiKey` in the "browser". Throws
 * when the first connection is not refused for want of a token, or the flow does not get back to the client (with
 * the page's error, or else `diagnostics()`, e.g. the server's stderr).
 */
export async function connectOAuth(
  era: Era,
  url: string,
  apiKey: string,
  provider = new TestOAuthProvider(),
  choices: { readOnly?: boolean } = {},
  diagnostics: () => string = () => '',
): Promise<McpSession> {
  const make = () =>
    era === 'modern'
      ? {
          transport: new ModernHttp(new URL(url), { authProvider: provider as never }),
          client: new ModernClient(
            { name: 'oauth-tests', version: '1' },
            { versionNegotiation: { mode: { pin: '2026-07-28' } } },
          ),
        }
      : {
          transport: new LegacyHttp(new URL(url), { authProvider: provider as never }),
          client: new LegacyClient({ name: 'oauth-tests-2025', version: '1' }, { capabilities: {} }),
        };
  const first = make();
  const refused = await first.client.connect(first.transport as never).then(
    () => 'connected without a token',
    (err: Error) => err.message,
  );
  if (!/nauthorized/.test(refused)) throw new Error(`the first connection was not refused for a token: ${refused}`);
  if (!provider.authorizationUrl) throw new Error('the SDK did not ask to open the authorization page');
  const walked = await authorizeInBrowser(provider.authorizationUrl, provider.redirect, { apiKey, ...choices });
  if (!walked.callback) {
    throw new Error(`no redirect back: ${/class="error">([^<]*)/.exec(walked.page ?? '')?.[1] ?? diagnostics()}`);
  }
  const params = walked.callback.searchParams;
  if (era === 'modern') await (first.transport as ModernHttp).finishAuth(params);
  else await (first.transport as LegacyHttp).finishAuth(params.get('code') as string);
  const second = make();
  await second.client.connect(second.transport as never);
  return wrapClient(era, second.client as unknown as AnyClient);
}

/** A modern client of `url` that sends `token` as its bearer (no OAuth flow of its own). */
export async function withToken(url: string, token: string): Promise<McpSession> {
  const transport = new ModernHttp(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const client = new ModernClient(
    { name: 'oauth-tests', version: '1' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  await client.connect(transport);
  return wrapClient('modern', client as unknown as AnyClient);
}

/** A urlencoded form POST, as a browser or an OAuth client sends one. */
export const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

/** A raw MCP request (tools/list) to `url` with the given Authorization header (or none): status, challenge, body. */
export async function rawMcp(url: string, authorization?: string, query = '') {
  const res = await fetch(`${url}${query}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(authorization ? { authorization } : {}),
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
  });
  return { status: res.status, challenge: res.headers.get('www-authenticate') ?? '', body: await res.text() };
}
