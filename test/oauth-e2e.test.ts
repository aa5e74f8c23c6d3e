/**
 * `--auth oauth` end to end with the MCP SDK clients' own OAuth support (both eras): discovery from a 401, dynamic
 * registration, the PKCE authorization-code flow with the authorization form submitted the way a browser would, tool
 * calls that reach Kernel with the person's own key (two Kernel accounts behind a router that picks one by key),
 * token refresh with rotation, revocation, Client ID Metadata Documents, and the refusals.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttp } from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyHttp } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../simulator/index.js';
import { closeAll, type HttpServerProcess, type KeyRouter, keyRouter, startHttp } from './helpers/http.js';
import { type AnyClient, ERAS, type Era, type McpSession, text, wrapClient } from './helpers/mcp.js';
import { authorizeInBrowser, TestOAuthProvider } from './helpers/oauth.js';

const KEY_A = 'sk_oauth_person_a_0123456789abcdef';
const KEY_B = 'sk_oauth_person_b_0123456789abcdef';
const SECRET = 'oauth-e2e-secret-0123456789abcdef0123456789';

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
    env: { KERNEL_MCP_OAUTH_SECRET: SECRET },
  });
}, 60_000);
afterAll(() => closeAll(srv, router, simA, simB));

const origin = () => new URL(srv.url).origin;

/** Connects a client of `era` through the SDK's OAuth flow, signing in with `apiKey` in the "browser". */
async function connectOAuth(era: Era, apiKey: string, provider = new TestOAuthProvider()): Promise<McpSession> {
  const make = () =>
    era === 'modern'
      ? {
          transport: new ModernHttp(new URL(srv.url), { authProvider: provider as never }),
          client: new ModernClient(
            { name: 'oauth-tests', version: '1' },
            { versionNegotiation: { mode: { pin: '2026-07-28' } } },
          ),
        }
      : {
          transport: new LegacyHttp(new URL(srv.url), { authProvider: provider as never }),
          client: new LegacyClient({ name: 'oauth-tests-2025', version: '1' }, { capabilities: {} }),
        };
  const first = make();
  await expect(first.client.connect(first.transport as never)).rejects.toThrow(/nauthorized/);
  expect(provider.authorizationUrl, 'the SDK asked to open the authorization page').toBeDefined();
  const walked = await authorizeInBrowser(provider.authorizationUrl as URL, provider.redirect, { apiKey });
  expect(
    walked.callback,
    /class="error">([^<]*)/.exec(walked.page ?? '')?.[1] ?? srv.stderr().slice(-3000),
  ).toBeDefined();
  const params = (walked.callback as URL).searchParams;
  if (era === 'modern') await (first.transport as ModernHttp).finishAuth(params);
  else await (first.transport as LegacyHttp).finishAuth(params.get('code') as string);
  const second = make();
  await second.client.connect(second.transport as never);
  return wrapClient(era, second.client as unknown as AnyClient);
}

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
