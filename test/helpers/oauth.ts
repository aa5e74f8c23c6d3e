/**
 * OAuth from the client's side, for tests: an OAuthClientProvider of the kind the MCP SDK clients take (in memory),
 * and a "browser" that walks an authorization URL the way a person's browser would: it follows redirects with its
 * own cookies, reads the authorization page's form, submits it with a Kernel key, and stops at the redirect back to
 * the client, whose query (code, iss, state) it answers.
 */

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
