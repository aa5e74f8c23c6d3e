/**
 * Secrets never leave the server: the API key, HTTP tokens (the server's, and the Kernel keys clients send in
 * passthrough mode), proxy passwords and other write-only values (credential values, provider tokens).
 *
 * The worst case is staged on purpose: an "echo" API that answers every request with the Authorization header and
 * the request body in its answers (JSON fields, error messages, event-stream events, Connect errors). Every secret
 * therefore comes back from the API at least once (asserted), and must be gone from everything the server sends a
 * client or writes to a log: tool results, stdout, stderr at debug level, HTTP answers, startup errors.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectHttp, connectStdio, inProcessServer, type Session } from '../../bench/clients.js';
import { type HttpServerChild, startHttpChild } from '../../bench/http-server.js';
import { CLI, childEnv } from '../../bench/lib.js';
import { type Simulator, startSimulator } from '../../simulator/index.js';
import { INITIALIZE } from '../helpers/http.js';
import { connectStdio as connectCli } from '../helpers/mcp.js';
import { eventually, Seen, secretsFor, textOf } from './harness.js';

const S = secretsFor('secrets');
/** A Kernel key a passthrough client sends (the server never holds it). */
const CLIENT_KEY = 'sk_live_rel_passthrough_Cl13ntK3y0123456789';
const PROVIDER_TOKEN = 'ops_rel_Pr0v1d3rT0k3n_abcdefghijklmnop';
/** Each secret kind its own value, so one tool's redaction cannot hide a missing registration in another. */
const POOL_PASSWORD = 'pw_rel_pool_Pr0xyP00lPa55!0123';
const BULK_PASSWORD = 'pw_rel_bulk_Pr0xyP00lBu1k!4567';
const EXCHANGE_CODE = 'hoc_rel_Exch4ng3C0d3_0123456789';
const ALL = [...Object.values(S), CLIENT_KEY, PROVIDER_TOKEN, POOL_PASSWORD, BULK_PASSWORD, EXCHANGE_CODE];
const seen = new Seen(ALL);

/** Answers with whatever it was sent; records every secret it saw come in, to prove the echo is real. */
class EchoApi {
  server: Server;
  url = '';
  received = '';

  constructor() {
    this.server = createServer(async (req, res) => {
      const body = await read(req);
      const auth = String(req.headers.authorization ?? '');
      this.received += `${auth}\n${body}\n`;
      const echo = `you sent ${auth} with ${body}`;
      if (String(req.headers.accept ?? '').includes('text/event-stream')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(`id: 1\ndata: ${JSON.stringify({ echo })}\n\nid: 2\ndata: ${JSON.stringify({ auth })}\n\n`);
        return;
      }
      if (req.url?.startsWith('/proxies.v1.Proxies/')) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ code: 'invalid_argument', message: echo }));
        return;
      }
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ session_id: 'b1', echo, auth, nested: { list: [auth, body] } }));
        return;
      }
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'bad_request', message: echo, details: [{ code: 'echo', message: auth }] }));
    });
  }

  async start() {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close() {
    this.server.closeAllConnections();
    return new Promise<void>((r) => this.server.close(() => r()));
  }
}

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    req.on('data', (d: Buffer) => {
      s += d.toString();
    });
    req.on('end', () => resolve(s));
  });
}

/** Calls that carry every kind of secret to the API (which echoes them back). */
const CALLS: [string, Record<string, unknown>][] = [
  ['browsers_retrieve', { id: 'b1' }],
  ['browsers_create', { headless: true }],
  [
    'proxies_create',
    {
      type: 'custom',
      name: 'p1',
      config: { host: 'proxy.example', port: 8080, username: 'u', password: S.proxyPassword },
    },
  ],
  ['credentials_create', { name: 'c1', domain: 'example.com', values: { username: 'u', password: S.credentialValue } }],
  ['credential_providers_create', { provider_type: 'onepassword', name: 'op', token: PROVIDER_TOKEN }],
  [
    'proxy_pool_sessions_create',
    {
      workspace_id: 'AAAAAAAAAAAAAAAAAAAAAA==',
      pool_id: 'AQEBAQEBAQEBAQEBAQEBAQ==',
      provider_id: 'AgICAgICAgICAgICAgICAg==',
      scheme: 'http',
      host: 'proxy.example',
      port: 8080,
      username: 'u',
      password: POOL_PASSWORD,
    },
  ],
  [
    'proxy_pool_sessions_bulk_create',
    {
      workspace_id: 'AAAAAAAAAAAAAAAAAAAAAA==',
      pool_id: 'AQEBAQEBAQEBAQEBAQEBAQ==',
      provider_id: 'AgICAgICAgICAgICAgICAg==',
      sessions: [
        { token: 'rot-1', scheme: 'http', host: 'proxy.example', port: 8080, username: 'u', password: BULK_PASSWORD },
      ],
    },
  ],
  ['auth_connections_exchange', { id: 'ac1', code: EXCHANGE_CODE }],
  ['browsers_telemetry_stream', { id: 'b1', max_seconds: 2 }],
];

async function callAll(session: Session, label: string) {
  for (const [tool, args] of CALLS) {
    const r = await session.call(tool, args);
    seen.add(`${label} ${tool}`, r);
    // Something came back (the echo or its error), so the redaction had something to do.
    expect(textOf(r).length, `${label} ${tool}`).toBeGreaterThan(0);
  }
}

const echo = new EchoApi();
let sim: Simulator;
beforeAll(async () => {
  await echo.start();
  sim = await startSimulator({ enforceBrowserTimeouts: false });
});
afterAll(async () => {
  await echo.close();
  await sim?.close();
});

describe('in process, against an API that echoes secrets', () => {
  it('redacts them from every result and log line', async () => {
    const srv = inProcessServer({
      baseUrl: echo.url,
      apiKey: S.apiKey,
      config: { toolsets: ['all'], proxyPoolUrl: echo.url, maxRetries: 0, timeoutMs: 3000 },
    });
    for (const era of ['modern', 'legacy'] as const) {
      const session = await srv.connect(era);
      await callAll(session, `in-process ${era}`);
      await session.close();
    }
    await srv.close();
    for (const line of srv.logs) seen.add('in-process log', line);
    expect(srv.logs.length).toBeGreaterThan(0);
    seen.assertClean();
  });
});

describe('stdio, against an API that echoes secrets', () => {
  it.each(['modern', 'legacy'] as const)('keeps them out of results and debug stderr (%s client)', async (era) => {
    const session = await connectStdio(era, {
      args: ['--toolsets', 'all', '--max-retries', '0', '--api-key', S.apiKey],
      env: childEnv({ KERNEL_BASE_URL: echo.url, KERNEL_PROXY_POOL_URL: echo.url, KERNEL_MCP_LOG_LEVEL: 'debug' }),
    });
    try {
      await callAll(session, `stdio ${era}`);
    } finally {
      await session.close();
    }
    seen.add(`stdio ${era} stderr`, session.stderr());
    expect(session.stderr()).toContain('kernel-mcp');
    seen.assertClean();
  });

  it('keeps them out of the raw protocol stream (stdout) and stderr', async () => {
    const child = spawn(process.execPath, [CLI, '--toolsets', 'all', '--max-retries', '0'], {
      env: childEnv({
        KERNEL_API_KEY: S.apiKey,
        KERNEL_BASE_URL: echo.url,
        KERNEL_PROXY_POOL_URL: echo.url,
        KERNEL_MCP_LOG_LEVEL: 'debug',
      }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise((r) => child.once('exit', r));
    const send = (msg: unknown) => child.stdin.write(`${JSON.stringify(msg)}\n`);
    const answered = (id: number) => new RegExp(`"id":${id}[,}]`).test(stdout);
    try {
      send({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
      });
      expect(await eventually(() => answered(0), 15_000)).toBe(true);
      send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      CALLS.forEach(([name, args], i) => {
        send({ jsonrpc: '2.0', id: i + 1, method: 'tools/call', params: { name, arguments: args } });
      });
      expect(await eventually(() => CALLS.every((_, i) => answered(i + 1)), 20_000), stdout.slice(-500)).toBe(true);
    } finally {
      child.stdin.end();
      child.kill('SIGTERM');
      await exited;
    }
    expect(stdout).toContain('[redacted]');
    seen.add('raw stdio stdout', stdout);
    seen.add('raw stdio stderr', stderr);
    seen.assertClean();
  });

  it('keeps them out of startup errors', () => {
    const runs: { args: string[]; env: Record<string, string> }[] = [
      { args: ['--base-url', 'not a url'], env: { KERNEL_API_KEY: S.apiKey } },
      { args: ['--transport', 'http', '--http-token', S.httpToken.slice(0, 10)], env: { KERNEL_API_KEY: S.apiKey } },
      { args: ['--transport', 'http', '--host', '0.0.0.0', '--auth', 'none'], env: { KERNEL_API_KEY: S.apiKey } },
      { args: ['--timeout-ms', S.apiKey], env: {} },
    ];
    for (const run of runs) {
      const res = spawnSync(process.execPath, [CLI, ...run.args], {
        env: childEnv({ ...run.env, KERNEL_MCP_LOG_LEVEL: 'debug' }),
        input: '',
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(res.status, `${run.args.join(' ')}: ${res.stderr}`).not.toBe(0);
      // A rejected value is not echoed either (a too-short token is still somebody's secret).
      expect(res.stderr).not.toContain(S.httpToken.slice(0, 10));
      seen.add(`startup ${run.args.join(' ')} stderr`, res.stderr);
      seen.add(`startup ${run.args.join(' ')} stdout`, res.stdout);
    }
    seen.assertClean();
  });
});

describe('HTTP', () => {
  let token: HttpServerChild;
  let passthrough: HttpServerChild;
  beforeAll(async () => {
    token = await startHttpChild({
      baseUrl: echo.url,
      apiKey: S.apiKey,
      token: S.httpToken,
      extraArgs: ['--toolsets', 'all', '--max-retries', '0', '--proxy-pool-url', echo.url],
      env: { KERNEL_MCP_LOG_LEVEL: 'debug' },
    });
    passthrough = await startHttpChild({
      baseUrl: echo.url,
      apiKey: '',
      token: '',
      extraArgs: ['--auth', 'passthrough', '--toolsets', 'all', '--max-retries', '0', '--proxy-pool-url', echo.url],
      env: { KERNEL_MCP_LOG_LEVEL: 'debug', KERNEL_API_KEY: '', KERNEL_MCP_HTTP_TOKEN: '' },
    });
  });
  afterAll(async () => {
    await token?.stop();
    await passthrough?.stop();
  });

  it.each(['modern', 'legacy'] as const)(
    'token auth keeps the key and the token out of answers and logs (%s)',
    async (era) => {
      const session = await connectHttp(era, token.url, S.httpToken);
      try {
        await callAll(session, `http ${era}`);
      } finally {
        await session.close();
      }
      // Refused clients: a wrong token, a token that is the right one plus a suffix, the API key as a token.
      for (const bad of ['wrong-token-0123456789abcdef', `${S.httpToken}x`, S.apiKey]) {
        const res = await fetch(token.url, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${bad}`,
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
          },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
        });
        expect(res.status).toBe(401);
        seen.add(`http 401 body for ${bad.slice(0, 8)}`, await res.text());
        seen.add('http 401 headers', JSON.stringify([...res.headers.entries()]));
      }
      seen.add('http token stderr', token.stderr());
      seen.assertClean();
    },
  );

  it.each(['modern', 'legacy'] as const)(
    'passthrough keeps the client key out of answers and logs (%s)',
    async (era) => {
      const session = await connectHttp(era, passthrough.url, CLIENT_KEY);
      try {
        await callAll(session, `passthrough ${era}`);
      } finally {
        await session.close();
      }
      seen.add('http passthrough stderr', passthrough.stderr());
      seen.assertClean();
    },
  );

  it('passthrough against the simulator: the client key reaches the API and nowhere else', async () => {
    const server = await startHttpChild({
      baseUrl: sim.url,
      apiKey: '',
      token: '',
      extraArgs: ['--auth', 'passthrough'],
      env: { KERNEL_MCP_LOG_LEVEL: 'debug', KERNEL_API_KEY: '', KERNEL_MCP_HTTP_TOKEN: '' },
    });
    try {
      const session = await connectHttp('modern', server.url, CLIENT_KEY);
      const created = await session.call('browsers_create', { headless: true });
      seen.add('passthrough sim create', created);
      expect(created.isError, textOf(created)).toBeFalsy();
      await session.close();
      expect(sim.requests.some((r) => r.headers.authorization === `Bearer ${CLIENT_KEY}`)).toBe(true);
    } finally {
      await server.stop();
    }
    seen.add('passthrough sim stderr', server.stderr());
    seen.assertClean();
  });
});

/**
 * A scripted session against the simulator, which quotes secrets back where a real API could (a refused API key or
 * handoff code, a TOTP secret it cannot decode, a failed proxy check naming the proxy URL with its password, a
 * proxy-pool endpoint it cannot parse): each is first shown to come back from the simulator itself, then must be
 * gone from every result and from debug stderr.
 */
describe('a scripted session against the simulator, which echoes secrets where the real API could', () => {
  const SIM_KEY = 'sk_live_rel_simecho_K3y0123456789abcdef';
  const WRONG_KEY = 'sk_live_rel_simecho_Wr0ngK3y0123456789';
  const PROXY_PASSWORD = 'pw_rel_simecho_Pr0xy!0123456';
  const TOTP_SECRET = 'totp_rel_simecho_N0tBas32!';
  const CODE = 'hoc_rel_simecho_C0d3_0123456789';
  const POOL_PW = 'pw_rel_simecho_P00l!0123456';
  const secrets = [SIM_KEY, WRONG_KEY, PROXY_PASSWORD, TOTP_SECRET, CODE, POOL_PW];
  const simSeen = new Seen(secrets);
  let keyed: Simulator;
  beforeAll(async () => {
    keyed = await startSimulator({ apiKey: SIM_KEY });
  });
  afterAll(async () => {
    await keyed?.close();
  });

  const POOL_IDS = {
    workspace_id: 'AAAAAAAAAAAAAAAAAAAAAA==',
    pool_id: 'AQEBAQEBAQEBAQEBAQEBAQ==',
    provider_id: 'AgICAgICAgICAgICAgICAg==',
  };
  const badEndpoint = { scheme: 'http', host: 'bad_host!', port: 8080, username: 'u', password: POOL_PW };

  /** The simulator's own answer to a request, as text (to show the echo is real). */
  async function direct(method: string, path: string, body: unknown, key = SIM_KEY, headers = {}) {
    const res = await fetch(new URL(path, keyed.url), {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return `${res.status} ${await res.text()}`;
  }

  it('keeps every echoed secret out of results and debug stderr', async () => {
    const env = childEnv({
      KERNEL_BASE_URL: keyed.url,
      KERNEL_PROXY_POOL_URL: keyed.url,
      KERNEL_MCP_LOG_LEVEL: 'debug',
    });
    const session = await connectStdio('modern', { args: ['--toolsets', 'all', '--api-key', SIM_KEY], env });
    const results: [string, unknown][] = [];
    const call = async (tool: string, args: Record<string, unknown>) => {
      const r = await session.call(tool, args);
      results.push([tool, r]);
      return r;
    };
    try {
      const proxy = await call('proxies_create', {
        type: 'custom',
        name: 'echo-proxy',
        config: { host: 'proxy.example', port: 8080, username: 'u', password: PROXY_PASSWORD },
      });
      expect(proxy.isError, textOf(proxy)).toBeFalsy();
      const proxyId = (proxy.structuredContent as { id: string }).id;
      expect(await direct('POST', `/proxies/${proxyId}/check`, { url: 'https://target.invalid/' })).toContain(
        PROXY_PASSWORD,
      );
      const check = await call('proxies_check', { id: proxyId, url: 'https://target.invalid/' });
      expect(check.isError).toBe(true);
      expect(textOf(check)).toContain('could not reach target.invalid');

      const totp = { name: 'echo-cred', domain: 'example.com', values: { username: 'u' }, totp_secret: TOTP_SECRET };
      expect(await direct('POST', '/credentials', totp)).toContain(TOTP_SECRET);
      expect((await call('credentials_create', totp)).isError).toBe(true);

      const conn = await call('auth_connections_create', { domain: 'example.com', profile_name: 'echo-auth' });
      expect(conn.isError, textOf(conn)).toBeFalsy();
      const connId = (conn.structuredContent as { id: string }).id;
      expect((await call('auth_connections_login', { id: connId })).isError).toBeFalsy();
      expect(await direct('POST', `/auth/connections/${connId}/exchange`, { code: CODE })).toContain(CODE);
      expect((await call('auth_connections_exchange', { id: connId, code: CODE })).isError).toBe(true);

      const pool = { ...POOL_IDS, ...badEndpoint };
      const connect = { 'connect-protocol-version': '1' };
      const camel = {
        workspaceId: pool.workspace_id,
        poolId: pool.pool_id,
        providerId: pool.provider_id,
        ...badEndpoint,
      };
      expect(await direct('POST', '/proxies.v1.Proxies/CreateSession', camel, SIM_KEY, connect)).toContain(POOL_PW);
      const created = await call('proxy_pool_sessions_create', pool);
      expect(created.isError).toBe(true);
      expect(textOf(created)).toContain('host: value must be a host name or IP address');
      const bulk = await call('proxy_pool_sessions_bulk_create', {
        ...POOL_IDS,
        sessions: [{ token: 'echo-1', ...badEndpoint }],
      });
      expect(bulk.isError).toBe(true);
      expect(textOf(bulk)).toContain('sessions[0].host');
    } finally {
      await session.close();
    }
    for (const [tool, r] of results) simSeen.add(`sim ${tool}`, r);
    simSeen.add('sim stderr', session.stderr());
    expect(simSeen.matching(/\[redacted\]/)).toBeGreaterThanOrEqual(5);
    simSeen.assertClean();
  });

  it('keeps a refused API key out of the answer, whichever key it is', async () => {
    expect(await direct('GET', '/browsers', undefined, WRONG_KEY)).toContain(WRONG_KEY);
    const env = childEnv({
      KERNEL_BASE_URL: keyed.url,
      KERNEL_PROXY_POOL_URL: keyed.url,
      KERNEL_MCP_LOG_LEVEL: 'debug',
    });
    const keySeen = new Seen(secrets);
    const session = await connectStdio('legacy', { args: ['--toolsets', 'all', '--api-key', WRONG_KEY], env });
    try {
      const r = await session.call('browsers_list', {});
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain('invalid API key');
      keySeen.add('wrong key browsers_list', r);
      const pool = await session.call('proxy_pool_sessions_create', { ...POOL_IDS, token: 'echo-key' });
      expect(pool.isError).toBe(true);
      keySeen.add('wrong key proxy_pool_sessions_create', pool);
    } finally {
      await session.close();
    }
    keySeen.add('wrong key stderr', session.stderr());
    keySeen.assertClean();
  });
});

describe('passthrough against the simulator, which quotes a key it refuses', () => {
  const SIM_KEY = 'sk_live_rel_simpass_K3y0123456789abcdef';
  const UNKNOWN = 'sk_live_rel_simpass_Unkn0wn0123456789ab';
  let keyed: Simulator;
  let server: HttpServerChild;
  beforeAll(async () => {
    keyed = await startSimulator({ apiKey: SIM_KEY });
    server = await startHttpChild({
      baseUrl: keyed.url,
      apiKey: '',
      token: '',
      extraArgs: ['--auth', 'passthrough'],
      env: { KERNEL_MCP_LOG_LEVEL: 'debug', KERNEL_API_KEY: '', KERNEL_MCP_HTTP_TOKEN: '' },
    });
  });
  afterAll(async () => {
    await server?.stop();
    await keyed?.close();
  });

  it('keeps the refused key out of the 401 and the log', async () => {
    const echoed = await fetch(new URL('/browsers', keyed.url), { headers: { authorization: `Bearer ${UNKNOWN}` } });
    expect(await echoed.text()).toContain(UNKNOWN);
    const res = await fetch(server.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${UNKNOWN}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', ...INITIALIZE }),
    });
    expect(res.status).toBe(401);
    const seen = new Seen([UNKNOWN]);
    seen.add('401 body', await res.text());
    seen.add('401 headers', JSON.stringify([...res.headers.entries()]));
    expect(await eventually(() => server.stderr().includes('refused'), 5000), server.stderr()).toBe(true);
    seen.add('stderr', server.stderr());
    seen.assertClean();
  });
});

describe('the staging itself', () => {
  it('the echo API really received (and sent back) every secret', () => {
    for (const secret of ALL.filter((s) => s !== S.httpToken)) {
      expect(echo.received, `the echo API never saw ${secret.slice(0, 12)}…`).toContain(secret);
    }
    expect(seen.size).toBeGreaterThan(40);
    // And the echoes came back to clients redacted, not dropped.
    expect(seen.matching(/\[redacted\]/)).toBeGreaterThan(20);
  });

  it('the checker finds a secret when one is there', () => {
    const probe = new Seen([S.apiKey]);
    probe.add('probe', { content: [{ type: 'text', text: `oops ${S.apiKey}` }] });
    expect(probe.leak()?.label).toBe('probe');
  });
});

describe('a binary browser file that holds the API key (not UTF-8, so it goes out as a base64 blob)', () => {
  const KEY = 'sk_live_rel_blob_K3y0123456789abcdef';
  const bytes = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00]), Buffer.from(KEY), Buffer.from([0x80, 0x81])]);
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ apiKey: KEY });
  });
  afterAll(async () => {
    await sim?.close();
  });

  /** Writes the file through `session`, shows the simulator holds the key in it, and reads it back both ways. */
  async function readsBackRedacted(session: Session | Awaited<ReturnType<typeof connectCli>>) {
    const created = await session.call('browsers_create', {});
    const id = (created.structuredContent as { session_id: string }).session_id;
    const path = '/tmp/key.bin';
    const wrote = await session.call('browsers_fs_write_file', { id, path, content: bytes.toString('base64') });
    expect(wrote.isError, textOf(wrote)).toBeFalsy();
    // The file really holds the key: the simulator answers it as written.
    const raw = await fetch(`${sim.url}/browsers/${id}/fs/read_file?path=${encodeURIComponent(path)}`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(Buffer.from(await raw.arrayBuffer()).includes(KEY)).toBe(true);

    const read = await session.call('browsers_fs_read_file', { id, path });
    const link = read.content.find((c) => c.type === 'resource') as unknown as {
      resource: { uri: string; blob?: string };
    };
    expect(link.resource.blob).toBeDefined();
    const client = session.client as { readResource(p: { uri: string }): Promise<{ contents: { blob?: string }[] }> };
    const again = await client.readResource({ uri: link.resource.uri });
    for (const blob of [link.resource.blob, again.contents[0]?.blob]) {
      const back = Buffer.from(blob ?? '', 'base64');
      expect(back.includes(KEY)).toBe(false);
      expect(back.includes('[redacted]')).toBe(true);
      // The bytes around the key are kept.
      expect(back.subarray(0, 3)).toEqual(bytes.subarray(0, 3));
    }
  }

  it.each(['modern', 'legacy'] as const)(
    'comes back with the key replaced, as a tool result and as a resource (%s client)',
    async (era) => {
      const session = await connectCli(era, { env: { KERNEL_API_KEY: KEY, KERNEL_BASE_URL: sim.url } });
      try {
        await readsBackRedacted(session);
      } finally {
        await session.close();
      }
    },
  );

  it.each(['modern', 'legacy'] as const)(
    'comes back with the key of a passthrough client replaced too, over HTTP (%s client)',
    async (era) => {
      // The server holds no key: the client's bearer is the API key, and it is in the file.
      const server = await startHttpChild({
        baseUrl: sim.url,
        apiKey: '',
        token: '',
        extraArgs: ['--auth', 'passthrough'],
        env: { KERNEL_API_KEY: '', KERNEL_MCP_HTTP_TOKEN: '' },
      });
      try {
        const session = await connectHttp(era, server.url, KEY);
        try {
          await readsBackRedacted(session);
        } finally {
          await session.close();
        }
      } finally {
        await server.stop();
      }
    },
  );
});
