/**
 * `--auth oauth` end to end with the MCP SDK clients' own OAuth support (both eras): discovery from a 401, dynamic
 * registration, the PKCE authorization-code flow with the authorization form submitted the way a browser would, tool
 * calls that reach Kernel with the person's own key (two Kernel accounts behind a router that picks one by key),
 * token refresh with rotation, revocation, Client ID Metadata Documents, and the refusals.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttp } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../simulator/index.js';
import { closeAll, type HttpServerProcess, type KeyRouter, keyRouter, startHttp } from './helpers/http.js';
import { ERAS, type Era, type McpSession, text } from './helpers/mcp.js';
import {
  authorizeInBrowser,
  form,
  rawMcp as rawMcpTo,
  connectOAuth as signIn,
  TestOAuthProvider,
  withToken as withTokenTo,
} from './helpers/oauth.js';

const KEY_A = 'sk_oauth_person_a_0123456789abcdef';
const KEY_B = 'sk_oauth_person_b_0123456789abcdef';
const SECRET = 'oauth-e2e-secret-0123456789abcdef0123456789';

// A self-signed certificate for 127.0.0.1, trusted by the server (NODE_EXTRA_CA_CERTS): Client ID Metadata
// Documents are https URLs, and the SDK client refuses any other kind.
const certDir = mkdtempSync(join(tmpdir(), 'kernel-mcp-cimd-'));
execFileSync(
  'openssl',
  [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    join(certDir, 'key.pem'),
    '-out',
    join(certDir, 'cert.pem'),
  ],
  { stdio: 'ignore' },
);

let simA: Simulator;
let simB: Simulator;
let router: KeyRouter;
let srv: HttpServerProcess;
beforeAll(async () => {
  simA = await startSimulator({ seed: 1 });
  simB = await startSimulator({ seed: 2 });
  router = await keyRouter({ [KEY_A]: simA, [KEY_B]: simB });
  srv = await startHttp({
    args: ['--auth', 'oauth', '--base-url', router.url],
    env: { KERNEL_MCP_OAUTH_SECRET: SECRET, NODE_EXTRA_CA_CERTS: join(certDir, 'cert.pem') },
  });
}, 60_000);
afterAll(() => closeAll(srv, router, simA, simB));

const origin = () => new URL(srv.url).origin;

/** Connects a client of `era` through the SDK's OAuth flow, signing in with `apiKey` in the "browser". */
const connectOAuth = (
  era: Era,
  apiKey: string,
  provider = new TestOAuthProvider(),
  choices = {},
): Promise<McpSession> => signIn(era, srv.url, apiKey, provider, choices, () => srv.stderr().slice(-3000));

describe('discovery', () => {
  it('a 401 points at the protected resource metadata, which points at the authorization server', async () => {
    const res = await fetch(srv.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer /);
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
    expect(metadataUrl).toBe(`${origin()}/.well-known/oauth-protected-resource/mcp`);
    const prm = (await (await fetch(metadataUrl as string)).json()) as Record<string, unknown>;
    expect(prm.resource).toBe(srv.url);
    expect(prm.authorization_servers).toEqual([origin()]);
    expect(prm.scopes_supported).toEqual(['kernel:read', 'kernel:write']);
    const as = (await (await fetch(`${origin()}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >;
    expect(as.issuer).toBe(origin());
    expect(as.registration_endpoint).toBe(`${origin()}/oauth/register`);
    expect(as.revocation_endpoint).toBe(`${origin()}/oauth/revoke`);
    expect(as.code_challenge_methods_supported).toEqual(['S256']);
    expect(as.client_id_metadata_document_supported).toBe(true);
  });
});

describe.each(ERAS)('the OAuth flow (%s client)', (era) => {
  it('signs a person in with their own Kernel key and keeps two people apart', async () => {
    const a = await connectOAuth(era, KEY_A);
    const b = await connectOAuth(era, KEY_B);
    try {
      const mark = simA.requests.length;
      const created = await a.call('browsers_create', { headless: true });
      expect(created.isError, text(created)).toBeFalsy();
      const id = (created.structuredContent as { session_id: string }).session_id;
      const seen = simA.requests.slice(mark).find((r) => r.method === 'POST' && r.path === '/browsers');
      expect(seen?.headers.authorization).toBe(`Bearer ${KEY_A}`);
      const listedByB = await b.call('browsers_list', {});
      expect(JSON.stringify(listedByB.structuredContent)).not.toContain(id);
      const listedByA = await a.call('browsers_list', {});
      expect(JSON.stringify(listedByA.structuredContent)).toContain(id);
      await a.call('browsers_delete', { id });
    } finally {
      await a.close();
      await b.close();
    }
  });
});

const withToken = (token: string) => withTokenTo(srv.url, token);
const rawMcp = (authorization?: string, query = '') => rawMcpTo(srv.url, authorization, query);

describe('tokens', () => {
  it('refresh tokens rotate, and replaying a used one revokes the grant', async () => {
    const provider = new TestOAuthProvider();
    await (await connectOAuth('modern', KEY_A, provider)).close();
    const clientId = String(provider.clientInfo?.client_id);
    const first = provider.savedTokens as { access_token: string; refresh_token: string };
    expect(first.refresh_token).toBeTruthy();
    const refresh = (token: string) =>
      fetch(
        `${origin()}/oauth/token`,
        form({ grant_type: 'refresh_token', refresh_token: token, client_id: clientId }),
      );
    const refreshed = await refresh(first.refresh_token);
    expect(refreshed.status).toBe(200);
    const second = (await refreshed.json()) as { access_token: string; refresh_token: string };
    expect(second.refresh_token).not.toBe(first.refresh_token);
    const b = await withToken(second.access_token);
    expect((await b.listTools()).length).toBeGreaterThan(10);
    await b.close();
    // A used refresh token presented again is a replay: refused, and every token of the grant is revoked.
    const reused = await refresh(first.refresh_token);
    expect(reused.status).toBe(400);
    expect(((await reused.json()) as { error: string }).error).toBe('invalid_grant');
    expect((await rawMcp(`Bearer ${second.access_token}`)).status).toBe(401);
  });

  it('revocation ends an access token', async () => {
    const provider = new TestOAuthProvider();
    await (await connectOAuth('modern', KEY_A, provider)).close();
    const token = (provider.savedTokens as { access_token: string }).access_token;
    expect((await rawMcp(`Bearer ${token}`)).status).not.toBe(401);
    const revoked = await fetch(
      `${origin()}/oauth/revoke`,
      form({ token, client_id: String(provider.clientInfo?.client_id) }),
    );
    expect(revoked.status).toBe(200);
    const after = await rawMcp(`Bearer ${token}`);
    expect(after.status).toBe(401);
    expect(after.challenge).toMatch(/error="invalid_token"/);
    expect(after.challenge).toMatch(/resource_metadata="/);
  });

  it('refuses tampered tokens and tokens in a query string, with the challenge', async () => {
    const provider = new TestOAuthProvider();
    await (await connectOAuth('modern', KEY_A, provider)).close();
    const token = (provider.savedTokens as { access_token: string }).access_token;
    expect((await rawMcp(`Bearer ${token}`)).status).not.toBe(401);
    const tampered = await rawMcp(`Bearer ${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`);
    expect(tampered.status).toBe(401);
    expect(tampered.challenge).toMatch(/error="invalid_token"/);
    for (const name of ['access_token', 'token']) {
      const query = await rawMcp(undefined, `?${name}=${token}`);
      expect(query.status).toBe(401);
      expect(query.challenge).toMatch(/resource_metadata="/);
    }
  });

  it('a kernel:read token (the person left out changes) gets the read-only tool set and cannot write', async () => {
    const reader = await connectOAuth('modern', KEY_A, new TestOAuthProvider(), { readOnly: true });
    try {
      const names = (await reader.listTools()).map((t) => t.name);
      expect(names).toContain('browsers_list');
      expect(names).not.toContain('browsers_create');
      const mark = simA.requests.length;
      const res = await reader.call('browsers_create', { headless: true }).catch((e: Error) => ({ error: e.message }));
      expect(JSON.stringify(res)).toMatch(/browsers_create/);
      expect(simA.requests.slice(mark).some((r) => r.method === 'POST')).toBe(false);
    } finally {
      await reader.close();
    }
  });
});

describe('the authorization page', () => {
  async function authorizationUrl(provider = new TestOAuthProvider()): Promise<URL> {
    const transport = new ModernHttp(new URL(srv.url), { authProvider: provider as never });
    const client = new ModernClient(
      { name: 'oauth-tests', version: '1' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await client.connect(transport).catch(() => undefined);
    return provider.authorizationUrl as URL;
  }

  it('gives no token for a Kernel key the Kernel API does not accept', async () => {
    const provider = new TestOAuthProvider();
    const walked = await authorizeInBrowser(await authorizationUrl(provider), provider.redirect, {
      apiKey: 'sk_not_a_real_kernel_key_0000',
    });
    expect(walked.callback).toBeUndefined();
    expect(walked.page).toMatch(/not accepted by the Kernel API/);
    expect(srv.stderr()).not.toContain('sk_not_a_real_kernel_key_0000');
  });

  it('answers access_denied when the person denies', async () => {
    const provider = new TestOAuthProvider();
    const walked = await authorizeInBrowser(await authorizationUrl(provider), provider.redirect, { decision: 'deny' });
    expect(walked.callback?.searchParams.get('error')).toBe('access_denied');
  });

  it('refuses a forged form (CSRF) and cannot be framed', async () => {
    const provider = new TestOAuthProvider();
    const url = await authorizationUrl(provider);
    const walked = await authorizeInBrowser(url, provider.redirect, { apiKey: KEY_A, tamperCsrf: true });
    expect(walked.callback).toBeUndefined();
    expect(walked.status).toBe(403);
    const page = await fetch(url, { redirect: 'follow' });
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });

  it('refuses a redirect URI the client did not register, without redirecting there', async () => {
    const provider = new TestOAuthProvider();
    const url = await authorizationUrl(provider);
    url.searchParams.set('redirect_uri', 'http://127.0.0.1:1/elsewhere');
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.headers.get('location') ?? '').not.toContain('/elsewhere');
    expect(await res.text()).toMatch(/redirect_uri/);
  });

  it('accepts a client identified by a Client ID Metadata Document', async () => {
    const provider = new TestOAuthProvider();
    let docUrl = '';
    const tls = { key: readFileSync(join(certDir, 'key.pem')), cert: readFileSync(join(certDir, 'cert.pem')) };
    const docServer: Server = createServer(tls, (_req, res) => {
      const url = docUrl;
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          client_id: url,
          client_name: 'Metadata Document Client',
          redirect_uris: [provider.redirect],
          token_endpoint_auth_method: 'none',
        }),
      );
    });
    await new Promise<void>((r) => docServer.listen(0, '127.0.0.1', r));
    docUrl = `https://127.0.0.1:${(docServer.address() as AddressInfo).port}/client.json`;
    const cimd = Object.assign(new TestOAuthProvider(), { clientMetadataUrl: docUrl });
    try {
      const session = await connectOAuth('modern', KEY_A, cimd);
      expect(cimd.clientInfo?.client_id).toBe(docUrl);
      expect((await session.listTools()).length).toBeGreaterThan(10);
      await session.close();
    } finally {
      docServer.close();
    }
  });
});

describe('start-up checks', () => {
  const start = (args: string[], env: Record<string, string> = {}) =>
    startHttp({ args: ['--auth', 'oauth', '--base-url', 'http://127.0.0.1:9', ...args], env }).then(
      async (s) => {
        await s.stop();
        return 'started';
      },
      (e: Error) => e.message,
    );

  it('needs a secret (or an issuer), and https outside loopback unless TLS terminates in front', async () => {
    expect(await start([])).toMatch(/KERNEL_MCP_OAUTH_SECRET/);
    expect(await start(['--public-url', 'http://mcp.example.com'], { KERNEL_MCP_OAUTH_SECRET: SECRET })).toMatch(
      /needs https.*--tls-terminated/,
    );
  });
});
