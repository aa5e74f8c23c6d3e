/**
 * HTTP authentication and the Host/Origin guards through the real server in this process (so a mutant of
 * src/http/auth.ts or guards.ts is seen), on loopback against the simulator: what a refused client is told (the 401
 * body and its WWW-Authenticate challenge) in each mode, which Authorization headers count as a bearer token, which
 * configurations are refused at start with the fix named, and which Host and Origin headers each kind of allow-list
 * lets through on every method. Header spellings HTTP itself normalises away (trailing blanks) are checked on the
 * Authenticator.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../simulator/index.js';
import { type Config, makeConfig } from '../src/config.js';
import { Authenticator, bearerChallenge, resolveAuthMode } from '../src/http/auth.js';
import { type HttpServerHandle, startHttpServer } from '../src/http/lifecycle.js';
import { KernelClient } from '../src/kernel/client.js';
import { silentLogger } from '../src/log.js';
import { selectTools } from '../src/selection.js';

const KEY = 'sk_auth_loopback_key_0123456789';
const TOKEN = 'tok_auth_loopback_0123456789abcdef';
const CLIENT_KEY = 'sk_auth_loopback_client_0123456789';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim?.close();
});

/** The real HTTP server in this process, in front of the simulator. */
async function serve(overrides: Partial<Config>): Promise<HttpServerHandle> {
  const config = makeConfig({
    transport: 'http',
    port: 0,
    logLevel: 'silent',
    baseUrl: sim.url,
    apiKey: KEY,
    shutdownDrainMs: 0,
    ...overrides,
  });
  return startHttpServer(config, {
    client: new KernelClient({ baseUrl: config.baseUrl, apiKey: KEY }),
    logger: silentLogger,
    localFiles: false,
    simulated: false,
    selection: selectTools(config),
    skills: null,
  });
}

/** A server for the tests of a describe: `f.srv` inside them. */
function useServer(overrides: Partial<Config>): { srv: HttpServerHandle } {
  const f = {} as { srv: HttpServerHandle };
  beforeAll(async () => {
    f.srv = await serve(overrides);
  });
  afterAll(async () => {
    await f.srv?.close();
  });
  return f;
}

const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'auth-test', version: '1' } },
});

async function initialize(url: string, authorization?: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25',
      ...(authorization !== undefined ? { authorization } : {}),
    },
    body: INIT,
  });
  const text = await res.text();
  return { status: res.status, challenge: res.headers.get('www-authenticate'), text };
}

const refusal = (text: string) => (JSON.parse(text) as { error: { message: string } }).error.message;

describe('token mode on loopback', () => {
  const f = useServer({ httpToken: TOKEN });

  it('tells a client without a token what to send, in the body and the challenge', async () => {
    const r = await initialize(f.srv.url);
    expect(r.status).toBe(401);
    expect(refusal(r.text)).toBe('Unauthorized: send `Authorization: Bearer <KERNEL_MCP_HTTP_TOKEN>`');
    expect(r.challenge).toBe(
      bearerChallenge(
        'No bearer token: send Authorization: Bearer <KERNEL_MCP_HTTP_TOKEN>, the token the server was started with',
      ),
    );
  });

  it('tells a client with the wrong token that it is not valid', async () => {
    for (const auth of [
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(1)}`,
      'Bearer wrong-token-0123456789',
      `Basic ${TOKEN}`,
    ]) {
      const r = await initialize(f.srv.url, auth);
      expect(r.status, auth).toBe(401);
      if (auth.startsWith('Basic')) continue;
      expect(refusal(r.text)).toBe('Unauthorized: the bearer token is not valid');
      expect(r.challenge).toBe(
        bearerChallenge(
          'The bearer token is not valid: send the KERNEL_MCP_HTTP_TOKEN the server was started with',
          'invalid_token',
        ),
      );
    }
  });

  it('takes the scheme in any case and any run of blanks before the token, nothing before or after it', async () => {
    for (const auth of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `BEARER \t ${TOKEN}`, `Bearer   ${TOKEN}`]) {
      expect((await initialize(f.srv.url, auth)).status, JSON.stringify(auth)).toBe(200);
    }
    for (const auth of [`xBearer ${TOKEN}`, `Bearer ${TOKEN} extra`, `Bearer${TOKEN}`, `Token Bearer ${TOKEN}`]) {
      expect((await initialize(f.srv.url, auth)).status, JSON.stringify(auth)).toBe(401);
    }
  });
});

describe('passthrough mode on loopback', () => {
  const f = useServer({ auth: 'passthrough' });

  it('tells a client without a key to send its Kernel API key', async () => {
    const r = await initialize(f.srv.url);
    expect(r.status).toBe(401);
    expect(refusal(r.text)).toBe('Unauthorized: send your Kernel API key as `Authorization: Bearer <key>`');
    expect(r.challenge).toBe(
      bearerChallenge('No bearer token: send your Kernel API key as Authorization: Bearer <key>'),
    );
  });

  it('refuses what cannot be a key unread, and serves a key the API accepts', async () => {
    for (const bad of ['short', 'has"quote0123', 'x'.repeat(4097)]) {
      const r = await initialize(f.srv.url, `Bearer ${bad}`);
      expect(r.status, bad.slice(0, 10)).toBe(401);
      expect(refusal(r.text)).toBe('Unauthorized: the bearer token is not valid');
      expect(r.challenge).toBe(bearerChallenge('The bearer token is not a Kernel API key', 'invalid_token'));
    }
    expect((await initialize(f.srv.url, `Bearer ${CLIENT_KEY}`)).status).toBe(200);
    expect(sim.requests.some((r) => r.headers.authorization === `Bearer ${CLIENT_KEY}`)).toBe(true);
  });
});

describe('no auth on loopback', () => {
  it('serves a client that sends nothing, or anything', async () => {
    const srv = await serve({});
    try {
      expect((await initialize(srv.url)).status).toBe(200);
      expect((await initialize(srv.url, 'Bearer whatever-0123456789')).status).toBe(200);
    } finally {
      await srv.close();
    }
  });
});

describe('the Authenticator on header spellings HTTP trims', () => {
  it('allows blanks after the token and nothing else', () => {
    const a = new Authenticator('token', TOKEN);
    expect(a.check(`Bearer ${TOKEN} `)).toEqual({ ok: true, mode: 'token' });
    expect(a.check(`Bearer ${TOKEN}\t \t`)).toEqual({ ok: true, mode: 'token' });
    expect(a.check(` Bearer ${TOKEN}`).ok).toBe(false);
    expect(a.check(`Bearer ${TOKEN} x`).ok).toBe(false);
    expect(new Authenticator('none').check(undefined)).toEqual({ ok: true, mode: 'none' });
    expect(new Authenticator('none').check('Bearer x')).toEqual({ ok: true, mode: 'none' });
  });
});

describe('the challenge', () => {
  it('quotes the description safely and names the error only when given', () => {
    expect(bearerChallenge('say "hi" \\ to é\tme')).toBe(
      'Bearer realm="kernel-mcp", error_description="say hi  to   me"',
    );
    expect(bearerChallenge('bad', 'invalid_token')).toBe(
      'Bearer realm="kernel-mcp", error="invalid_token", error_description="bad"',
    );
  });
});

describe('configurations refused at start', () => {
  const SECRET = 's'.repeat(40);

  it('oauth needs a secret or an issuer, https off loopback (or TLS ended in front), and no built-in simulator', () => {
    expect(() => resolveAuthMode(makeConfig({ auth: 'oauth' }))).toThrow(
      '--auth oauth needs KERNEL_MCP_OAUTH_SECRET (at least 32 characters, e.g. `openssl rand -hex 32`) for the ' +
        'built-in authorization server, or --oauth-issuer URL for an external one.',
    );
    expect(resolveAuthMode(makeConfig({ auth: 'oauth', oauthSecret: SECRET }))).toBe('oauth');
    expect(resolveAuthMode(makeConfig({ auth: 'oauth', oauthIssuer: 'https://issuer.example' }))).toBe('oauth');
    expect(() =>
      resolveAuthMode(makeConfig({ auth: 'oauth', oauthSecret: SECRET, host: '0.0.0.0', port: 3333 })),
    ).toThrow(
      '--auth oauth needs https: http://0.0.0.0:3333 is not. Set --public-url https://... (the URL clients use), ' +
        'and --tls-terminated when a proxy in front of this server serves https.',
    );
    expect(() =>
      resolveAuthMode(makeConfig({ auth: 'oauth', oauthSecret: SECRET, publicUrl: 'http://mcp.example.com' })),
    ).toThrow(/needs https: http:\/\/mcp\.example\.com is not/);
    for (const ok of [
      { publicUrl: 'https://mcp.example.com' },
      { publicUrl: 'http://mcp.example.com', tlsTerminated: true },
      { host: '0.0.0.0', publicUrl: 'http://localhost:3333' },
    ]) {
      expect(resolveAuthMode(makeConfig({ auth: 'oauth', oauthSecret: SECRET, ...ok })), JSON.stringify(ok)).toBe(
        'oauth',
      );
    }
    expect(() => resolveAuthMode(makeConfig({ auth: 'oauth', oauthSecret: SECRET, simulate: true }))).toThrow(
      /^--auth oauth signs each person in with their own Kernel API key, which the built-in simulator of --simulate does not accept\./,
    );
    expect(resolveAuthMode(makeConfig({ auth: 'oauth', oauthIssuer: 'https://issuer.example', simulate: true }))).toBe(
      'oauth',
    );
  });

  it('no auth off loopback names the three ways out', () => {
    expect(() => resolveAuthMode(makeConfig({ host: '0.0.0.0' }))).toThrow(
      'refusing to serve HTTP on 0.0.0.0 without authentication: anyone who can reach it could use your Kernel ' +
        'account. Set KERNEL_MCP_HTTP_TOKEN (clients then send `Authorization: Bearer <token>`), use ' +
        '`--auth passthrough` (each client sends its own Kernel API key), or bind to 127.0.0.1.',
    );
  });

  it('passthrough with --simulate says why and what to run instead; other modes with --simulate are fine', () => {
    expect(() => resolveAuthMode(makeConfig({ auth: 'passthrough', simulate: true }))).toThrow(
      /^--auth passthrough sends each client its own Kernel API key, which the built-in simulator of --simulate does not accept\. Run `.+ simulator` separately and pass its URL as --base-url instead\.$/,
    );
    expect(resolveAuthMode(makeConfig({ simulate: true }))).toBe('none');
    expect(resolveAuthMode(makeConfig({ simulate: true, httpToken: TOKEN }))).toBe('token');
    expect(resolveAuthMode(makeConfig({ simulate: true, auth: 'token', httpToken: TOKEN }))).toBe('token');
  });
});

/** A request with exactly these headers (fetch sets Host itself); answers the status and the JSON-RPC error message. */
function raw(url: string, method: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-11-25',
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => {
          text += d.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(method === 'POST' ? INIT : undefined);
  });
}

describe('Host and Origin guards on loopback', () => {
  const f = useServer({});
  const port = () => new URL(f.srv.url).port;

  it('let a loopback bind be reached by its loopback names on its own port, on every method', async () => {
    for (const host of [`localhost:${port()}`, `127.0.0.1:${port()}`, `[::1]:${port()}`, `LocalHost:${port()}`]) {
      const r = await raw(f.srv.url, 'POST', { host });
      expect(r.status, host).toBe(200);
    }
    for (const method of ['POST', 'GET', 'DELETE']) {
      for (const host of ['evil.example', `evil.example:${port()}`, `localhost:${Number(port()) + 1}`, 'localhost']) {
        const r = await raw(f.srv.url, method, { host });
        expect(r.status, `${method} ${host}`).toBe(403);
        expect(refusal(r.text)).toBe('Forbidden: Host header is not allowed');
      }
    }
  });

  it('let loopback origins in on any port, and refuse others and the opaque null, on every method', async () => {
    const host = `127.0.0.1:${port()}`;
    for (const origin of ['http://localhost:5173', 'http://127.0.0.1:1', 'https://[::1]:8443']) {
      expect((await raw(f.srv.url, 'POST', { host, origin })).status, origin).toBe(200);
    }
    for (const method of ['POST', 'GET', 'DELETE']) {
      for (const origin of ['https://evil.example', 'http://localhost.evil.example', 'null', 'not a url']) {
        const r = await raw(f.srv.url, method, { host, origin });
        expect(r.status, `${method} ${origin}`).toBe(403);
        expect(refusal(r.text)).toBe('Forbidden: Origin is not allowed');
      }
    }
  });

  it('follow the configured lists instead of the defaults', async () => {
    const custom = await serve({
      allowedHosts: ['mcp.example.com', 'fixed.example.com:8443'],
      allowedOrigins: ['https://app.example.com', 'tools.example.com'],
    });
    try {
      const ok = async (headers: Record<string, string>) => (await raw(custom.url, 'POST', headers)).status;
      expect(await ok({ host: 'mcp.example.com:1234' })).toBe(200);
      expect(await ok({ host: 'MCP.example.com' })).toBe(200);
      expect(await ok({ host: 'fixed.example.com:8443' })).toBe(200);
      expect(await ok({ host: 'fixed.example.com:8444' })).toBe(403);
      expect(await ok({ host: `127.0.0.1:${new URL(custom.url).port}` })).toBe(403);
      const host = 'mcp.example.com';
      expect(await ok({ host, origin: 'https://app.example.com' })).toBe(200);
      expect(await ok({ host, origin: 'http://app.example.com' })).toBe(403);
      expect(await ok({ host, origin: 'http://tools.example.com:3000' })).toBe(200);
      expect(await ok({ host, origin: 'http://localhost:5173' })).toBe(403);
    } finally {
      await custom.close();
    }
  });
});
