/**
 * `--auth oauth --oauth-issuer URL`: kernel-mcp as the resource server only, in front of a real OIDC provider started
 * here (oidc-provider, the library the built-in server uses, issuing JWT access tokens by client credentials). Tokens
 * are checked against the issuer's JWKS for issuer, audience, expiry and scope; requests reach Kernel with the
 * server's own key.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttp } from '@modelcontextprotocol/client';
import * as jose from 'jose';
import Provider from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../simulator/index.js';
import { closeAll, type HttpServerProcess, startHttp } from './helpers/http.js';
import { type AnyClient, type McpSession, text, wrapClient } from './helpers/mcp.js';

const KEY = 'sk_oauth_issuer_server_key_0123456789';

let sim: Simulator;
let issuerServer: Server;
let issuerUrl: string;
let srv: HttpServerProcess;

beforeAll(async () => {
  sim = await startSimulator({ apiKey: KEY });
  issuerServer = createServer();
  await new Promise<void>((r) => issuerServer.listen(0, '127.0.0.1', r));
  issuerUrl = `http://127.0.0.1:${(issuerServer.address() as AddressInfo).port}`;
  const { privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const issuer = new Provider(issuerUrl, {
    clients: [
      {
        client_id: 'svc',
        client_secret: 'svc-secret-0123456789',
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: [{ ...(await jose.exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid: 'test' }] },
    scopes: ['kernel:read', 'kernel:write'],
    extraParams: ['ttl'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        getResourceServerInfo: (ctx: { oidc: { body?: { ttl?: string } } }, indicator: string) => ({
          scope: 'kernel:read kernel:write',
          audience: indicator,
          accessTokenFormat: 'jwt',
          accessTokenTTL: Number(ctx.oidc.body?.ttl ?? 600),
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
  });
  issuerServer.on('request', issuer.callback());
  sim = sim ?? (await startSimulator({ apiKey: KEY }));
  srv = await startHttp({
    args: ['--auth', 'oauth', '--oauth-issuer', issuerUrl],
    env: { KERNEL_API_KEY: KEY, KERNEL_BASE_URL: sim.url },
  });
}, 60_000);
afterAll(async () => {
  await closeAll(srv, sim);
  issuerServer?.close();
});

async function token(fields: { resource?: string; scope?: string; ttl?: string } = {}): Promise<string> {
  const res = await fetch(`${issuerUrl}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from('svc:svc-secret-0123456789').toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      scope: fields.scope ?? 'kernel:read kernel:write',
      resource: fields.resource ?? srv.url,
      ...(fields.ttl ? { ttl: fields.ttl } : {}),
    }).toString(),
  });
  const body = (await res.json()) as { access_token?: string; error_description?: string };
  if (!body.access_token) throw new Error(`no token: ${JSON.stringify(body)}`);
  return body.access_token;
}

async function withToken(t: string): Promise<McpSession> {
  const transport = new ModernHttp(new URL(srv.url), { requestInit: { headers: { Authorization: `Bearer ${t}` } } });
  const client = new ModernClient(
    { name: 'issuer-tests', version: '1' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  await client.connect(transport);
  return wrapClient('modern', client as unknown as AnyClient);
}

async function status(t: string) {
  const res = await fetch(srv.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${t}` },
    body: '{}',
  });
  return { status: res.status, challenge: res.headers.get('www-authenticate') ?? '' };
}

describe('--oauth-issuer', () => {
  it('publishes metadata pointing at the issuer, and serves no authorization server of its own', async () => {
    const prm = (await (await fetch(`${new URL(srv.url).origin}/.well-known/oauth-protected-resource/mcp`)).json()) as {
      authorization_servers: string[];
      resource: string;
    };
    expect(prm.authorization_servers).toEqual([issuerUrl]);
    expect(prm.resource).toBe(srv.url);
    expect((await fetch(`${new URL(srv.url).origin}/oauth/register`, { method: 'POST' })).status).toBe(404);
  });

  it("accepts the issuer's tokens for this resource, reaching Kernel with the server's key", async () => {
    const mcp = await withToken(await token());
    try {
      const mark = sim.requests.length;
      const res = await mcp.call('browsers_list', {});
      expect(res.isError, text(res)).toBeFalsy();
      expect(sim.requests.slice(mark)[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
      expect((await mcp.listTools()).map((t) => t.name)).toContain('browsers_create');
    } finally {
      await mcp.close();
    }
  });

  it('a kernel:read token gets the read-only tools', async () => {
    const mcp = await withToken(await token({ scope: 'kernel:read' }));
    try {
      const names = (await mcp.listTools()).map((t) => t.name);
      expect(names).toContain('browsers_list');
      expect(names).not.toContain('browsers_delete');
    } finally {
      await mcp.close();
    }
  });

  it('refuses a token for another audience, a tampered one and an expired one', async () => {
    const other = await status(await token({ resource: 'http://127.0.0.1:1/mcp' }));
    expect(other.status).toBe(401);
    expect(other.challenge).toMatch(/error="invalid_token"/);
    const good = await token();
    const [h, p, s] = good.split('.');
    const claims = JSON.parse(Buffer.from(p as string, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, scope: 'kernel:write', exp: claims.exp + 9999 })).toString('base64url')}.${s}`;
    expect((await status(forged)).status).toBe(401);
    const short = await token({ ttl: '1' });
    await expect.poll(async () => (await status(short)).status, { timeout: 15_000, interval: 250 }).toBe(401);
  });
});
