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
import { waitFor } from '../helpers/simulator-client.js';
import { eventually, jsonForms, Seen, secretsFor, textOf } from './harness.js';

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
 * proxy-pool endpoint it cannot parse, a refused credential-provider token, a username the login website has no
 * account for, whether typed into a login flow or stored in a credential, a build log naming the clone URL with the
 * GitHub token): each is first shown to come back from the simulator itself, then must be gone from every result,
 * stream resource and debug log line, over stdio and HTTP, for clients of both eras.
 */
describe('a scripted session against the simulator, which echoes secrets where the real API could', () => {
  const SIM_KEY = 'sk_live_rel_simecho_K3y0123456789abcdef';
  const WRONG_KEY = 'sk_live_rel_simecho_Wr0ngK3y0123456789';
  const HTTP_TOKEN = 'mcp_tok_rel_simecho_H77pT0k3n0123456789';
  /**
   * The write-only values one run sends, distinct per run: one HTTP server serves two runs, and each run's values must
   * be redacted because that run registered them. Some hold a quote or a backslash (a Windows `DOMAIN\user` login):
   * JSON escapes those, in the API's answers and in results, and an escaped secret is still a secret.
   */
  const valuesOf = (run: string) => ({
    proxyPassword: `pw_rel_${run}_Pr0xy!0123456`,
    totpSecret: `totp_rel_${run}_N0t"Bas32!`,
    patchedTotp: `totp_rel_${run}_P4tch3d!`,
    code: `hoc_rel_${run}_C0d3_0123456789`,
    agentCode: `hoc_rel_${run}_Ag3ntC0d3_012345`,
    poolPassword: `pw_rel_${run}_P00l!0123456`,
    typedUser: `typed_${run}_us3r@nobody.invalid`,
    agentUser: `agent_${run}_us3r@nobody.invalid`,
    storedUser: `CORP\\stored_${run}_us3r@nobody.invalid`,
    storedPassword: `cred_rel_${run}_St0r3dPa55!`,
    patchedUser: `patched_${run}_us3r@nobody.invalid`,
    providerToken: `tok_rel_${run}_Pr0v1d3rT0k3n01`,
    patchedProviderToken: `tok_rel_${run}_P4tch"3dT0k3n01`,
    githubToken: `ghp_rel_${run}_G1tHubT0k3n0123456`,
    envToken: `ghp_rel_${run}_3nvT0k3n0123456789`,
  });
  const RUNS = [
    ['stdio', 'modern'],
    ['stdio', 'legacy'],
    ['http', 'modern'],
    ['http', 'legacy'],
  ] as const;
  const runName = (transport: string, era: string) => `simecho_${transport}_${era}`;
  const secrets = [SIM_KEY, WRONG_KEY, HTTP_TOKEN, ...RUNS.flatMap(([t, e]) => Object.values(valuesOf(runName(t, e))))];
  let keyed: Simulator;
  let http: HttpServerChild;
  beforeAll(async () => {
    keyed = await startSimulator({ apiKey: SIM_KEY });
    http = await startHttpChild({
      baseUrl: keyed.url,
      apiKey: SIM_KEY,
      token: HTTP_TOKEN,
      extraArgs: ['--toolsets', 'all', '--include-deprecated', '--proxy-pool-url', keyed.url],
      env: { KERNEL_MCP_LOG_LEVEL: 'debug' },
    });
  });
  afterAll(async () => {
    await http?.stop();
    await keyed?.close();
  });

  const POOL_IDS = {
    workspace_id: 'AAAAAAAAAAAAAAAAAAAAAA==',
    pool_id: 'AQEBAQEBAQEBAQEBAQEBAQ==',
    provider_id: 'AgICAgICAgICAgICAgICAg==',
  };

  /** The simulator's own answer to a request, as text (to show the echo is real). */
  async function direct(method: string, path: string, body?: unknown, key = SIM_KEY, headers = {}) {
    const res = await fetch(new URL(path, keyed.url), {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return `${res.status} ${await res.text()}`;
  }

  /** An answer of the simulator holds `text`, as is or JSON-escaped (where it quoted it with JSON). */
  const holds = (answer: string, text: string) => jsonForms(text).some((form) => answer.includes(form));

  /** Polls the simulator's own answer to a GET until it holds `text` (an echo that comes later, in a state). */
  async function directlyShows(path: string, text: string): Promise<boolean> {
    return waitFor(async () => holds(await direct('GET', path), text), 10_000);
  }

  /** Calls every echoing operation through `session`, recording everything that comes back in `seen`. */
  async function script(session: Session, run: string, seen: Seen) {
    const v = valuesOf(run);
    const call = async (tool: string, args: Record<string, unknown>) => {
      const r = await session.call(tool, args);
      seen.add(`${run} ${tool}`, r);
      return r;
    };
    const ok = async (tool: string, args: Record<string, unknown>) => {
      const r = await call(tool, args);
      expect(r.isError, `${tool}: ${textOf(r)}`).toBeFalsy();
      return r.structuredContent as Record<string, unknown>;
    };
    /**
     * What a client reads of a stream resource (every event buffered so far), read again until it holds `needle`
     * (the first read opens the stream), as text.
     */
    const readResource = async (uri: string, needle: string) => {
      const client = session.client as { readResource(p: { uri: string }): Promise<unknown> };
      return waitFor(async () => {
        const text = JSON.stringify(await client.readResource({ uri }));
        seen.add(`${run} read ${uri}`, text);
        return text.includes(needle) && text;
      }, 10_000);
    };

    // A failed proxy check names the proxy URL with its password.
    const proxy = await ok('proxies_create', {
      type: 'custom',
      name: `echo-proxy-${run}`,
      config: { host: 'proxy.example', port: 8080, username: 'u', password: v.proxyPassword },
    });
    const check = { url: 'https://target.invalid/' };
    expect(holds(await direct('POST', `/proxies/${proxy.id}/check`, check), v.proxyPassword)).toBe(true);
    const checked = await call('proxies_check', { id: proxy.id, ...check });
    expect(checked.isError).toBe(true);
    expect(textOf(checked)).toContain('could not reach target.invalid');

    // A TOTP secret that is not base32 is quoted, on create and on update.
    const totp = {
      name: `echo-totp-${run}`,
      domain: 'example.com',
      values: { username: 'u' },
      totp_secret: v.totpSecret,
    };
    expect(holds(await direct('POST', '/credentials', totp), v.totpSecret)).toBe(true);
    expect((await call('credentials_create', totp)).isError).toBe(true);

    // The login website quotes a username it has no account for: in the flow's state and its event stream.
    const refusalShown = async (connectionId: string, user: string) => {
      expect(await directlyShows(`/auth/connections/${connectionId}`, `No account found for ${user}`)).toBe(true);
      const state = await call('auth_connections_retrieve', { id: connectionId });
      expect(textOf(state)).toContain('No account found for [redacted]');
      const events = `kernel://auth/connections/${connectionId}/events`;
      expect(await readResource(events, 'No account found for')).toContain('No account found for [redacted]');
    };
    /** A login flow of a new connection that logs in with the stored credential `credential`. */
    const storedLoginRefused = async (credential: string, user: string, profile: string) => {
      const c = await ok('auth_connections_create', {
        domain: 'example.com',
        profile_name: profile,
        credential: { name: credential },
      });
      await ok('auth_connections_login', { id: c.id });
      await refusalShown(c.id as string, user);
    };

    // Credential values (create and update), used by a login flow.
    const credential = `echo-cred-${run}`;
    await ok('credentials_create', {
      name: credential,
      domain: 'example.com',
      values: { username: v.storedUser, password: v.storedPassword },
    });
    await storedLoginRefused(credential, v.storedUser, `echo-stored-${run}`);
    const badTotp = { totp_secret: v.patchedTotp };
    expect(holds(await direct('PATCH', `/credentials/${credential}`, badTotp), v.patchedTotp)).toBe(true);
    expect((await call('credentials_update', { id_or_name: credential, ...badTotp })).isError).toBe(true);
    await ok('credentials_update', { id_or_name: credential, values: { username: v.patchedUser } });
    await storedLoginRefused(credential, v.patchedUser, `echo-patched-${run}`);

    // A refused handoff code, then submitted fields.
    const conn = await ok('auth_connections_create', { domain: 'example.com', profile_name: `echo-auth-${run}` });
    await ok('auth_connections_login', { id: conn.id });
    expect(holds(await direct('POST', `/auth/connections/${conn.id}/exchange`, { code: v.code }), v.code)).toBe(true);
    expect((await call('auth_connections_exchange', { id: conn.id, code: v.code })).isError).toBe(true);
    expect(await directlyShows(`/auth/connections/${conn.id}`, 'AWAITING_INPUT')).toBe(true);
    await ok('auth_connections_submit', { id: conn.id, fields: { username: v.typedUser, password: 'not-it-123' } });
    await refusalShown(conn.id as string, v.typedUser);

    // The same through the deprecated auth agents: a refused handoff code, then submitted field values.
    const agent = await ok('agents_auth_create', { domain: 'example.com', profile_name: `echo-agent-${run}` });
    const invocation = (await ok('agents_auth_invocations_create', { auth_agent_id: agent.id })).invocation_id;
    const exchange = `/agents/auth/invocations/${invocation}/exchange`;
    expect(holds(await direct('POST', exchange, { code: v.agentCode }), v.agentCode)).toBe(true);
    const exchanged = await call('agents_auth_invocations_exchange', { invocation_id: invocation, code: v.agentCode });
    expect(exchanged.isError).toBe(true);
    expect(await directlyShows(`/agents/auth/invocations/${invocation}`, 'awaiting_input')).toBe(true);
    await ok('agents_auth_invocations_submit', {
      invocation_id: invocation,
      field_values: { username: v.agentUser, password: 'not-it-123' },
    });
    await refusalShown(agent.id as string, v.agentUser);

    // A provider check quotes a token it refuses (as created, then as updated).
    const provider = await ok('credential_providers_create', {
      provider_type: 'onepassword',
      name: `echo-op-${run}`,
      token: v.providerToken,
    });
    for (const token of [v.providerToken, v.patchedProviderToken]) {
      if (token !== v.providerToken) await ok('credential_providers_update', { id: provider.id, token });
      expect(holds(await direct('POST', `/org/credential_providers/${provider.id}/test`), token)).toBe(true);
      const tested = await call('credential_providers_test', { id: provider.id });
      expect(textOf(tested)).toMatch(/Invalid service account token .*\[redacted\]/);
      expect(holds(await direct('GET', `/org/credential_providers/${provider.id}/items`), token)).toBe(true);
      const items = await call('credential_providers_list_items', { id: provider.id });
      expect(items.isError).toBe(true);
      expect(textOf(items)).toContain('[redacted]');
    }

    // A source that cannot be fetched: the build log names the clone URL with the GitHub token.
    const failing = await ok('deployments_create', {
      version: run,
      source: {
        type: 'github',
        url: 'https://github.invalid/echo/private-app',
        ref: 'main',
        entrypoint: 'index.ts',
        auth: { method: 'github_token', token: v.githubToken },
      },
    });
    const cloneUrl = 'x-access-token:[redacted]@github.invalid/echo/private-app';
    expect(await directlyShows(`/deployments/${failing.id}`, `x-access-token:${v.githubToken}@`)).toBe(true);
    expect(textOf(await call('deployments_retrieve', { id: failing.id }))).toContain(cloneUrl);
    const followed = await call('deployments_follow', { id: failing.id, until: 'end', max_seconds: 10 });
    expect(textOf(followed)).toContain(cloneUrl);
    expect(await readResource(`kernel://deployments/${failing.id}/events`, 'x-access-token:')).toContain(cloneUrl);

    // env_vars come back by design: the user's own values stay; a value this process holds as a secret (the
    // deployment's token, the API key) does not.
    const app = `echo-env-${run}`.replace(/_/g, '-');
    const plain = `plain-env-value-${run}`;
    const deployed = await ok('deployments_create', {
      version: 'v1',
      source: {
        type: 'github',
        url: `https://github.com/echo/${app}`,
        ref: 'main',
        entrypoint: 'index.ts',
        auth: { method: 'github_token', token: v.envToken },
      },
      env_vars: { GITHUB_TOKEN: v.envToken, KERNEL_API_KEY: SIM_KEY, REGION_NAME: plain },
    });
    const redactedEnv = { GITHUB_TOKEN: '[redacted]', KERNEL_API_KEY: '[redacted]', REGION_NAME: plain };
    expect(deployed.env_vars).toEqual(redactedEnv);
    expect(await directlyShows(`/deployments/${deployed.id}`, '"running"')).toBe(true);
    expect(holds(await direct('GET', `/deployments/${deployed.id}`), v.envToken)).toBe(true);
    const apps = await ok('apps_list', { app_name: app });
    expect(JSON.stringify(apps)).toContain(JSON.stringify(redactedEnv));

    // A proxy-pool endpoint the service cannot parse is quoted as a proxy URL, password included.
    const badEndpoint = { scheme: 'http', host: 'bad_host!', port: 8080, username: 'u', password: v.poolPassword };
    const pool = { ...POOL_IDS, ...badEndpoint };
    const camel = {
      workspaceId: pool.workspace_id,
      poolId: pool.pool_id,
      providerId: pool.provider_id,
      ...badEndpoint,
    };
    const connect = { 'connect-protocol-version': '1' };
    expect(
      holds(await direct('POST', '/proxies.v1.Proxies/CreateSession', camel, SIM_KEY, connect), v.poolPassword),
    ).toBe(true);
    const created = await call('proxy_pool_sessions_create', pool);
    expect(created.isError).toBe(true);
    expect(textOf(created)).toContain('host: value must be a host name or IP address');
    const bulk = await call('proxy_pool_sessions_bulk_create', {
      ...POOL_IDS,
      sessions: [{ token: `echo-${run}`, ...badEndpoint }],
    });
    expect(bulk.isError).toBe(true);
    expect(textOf(bulk)).toContain('sessions[0].host');
  }

  it.each(RUNS)(
    'keeps every echoed secret out of results, stream resources and debug logs (%s, %s client)',
    async (transport, era) => {
      const run = runName(transport, era);
      const seen = new Seen(secrets);
      const env = childEnv({
        KERNEL_BASE_URL: keyed.url,
        KERNEL_PROXY_POOL_URL: keyed.url,
        KERNEL_MCP_LOG_LEVEL: 'debug',
      });
      const session =
        transport === 'stdio'
          ? await connectStdio(era, { args: ['--toolsets', 'all', '--include-deprecated', '--api-key', SIM_KEY], env })
          : await connectHttp(era, http.url, HTTP_TOKEN);
      try {
        await script(session, run, seen);
      } finally {
        await session.close();
      }
      seen.add(`${run} log`, transport === 'stdio' ? session.stderr() : http.stderr());
      expect(seen.matching(/\[redacted\]/)).toBeGreaterThanOrEqual(20);
      seen.assertClean();
    },
    60_000,
  );

  it('keeps a refused API key out of the answer, whichever key it is', async () => {
    expect(holds(await direct('GET', '/browsers', undefined, WRONG_KEY), WRONG_KEY)).toBe(true);
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

/**
 * Answers over the result cap (--max-result-tokens) are cut: the cut must not fall inside a secret and leave its
 * start showing. An API answers the key many times over, behind paddings of several lengths so the cut falls at
 * different places in a copy; no part of the key's start may be left.
 */
describe('an answer cut to the result cap', () => {
  const KEY = 'sk_live_rel_cut_K3yAtTh3Cut0123456789abcdef';
  const PREFIX = KEY.slice(0, 10);
  let pad = 0;
  const server = createServer((req, res) => {
    const body = { pad: 'x'.repeat(pad), data: KEY.repeat(300) };
    if (String(req.headers.accept ?? '').includes('text/event-stream')) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`id: 1\ndata: ${JSON.stringify(body)}\n\n`);
    } else if (req.method === 'POST' && req.url === '/browsers') {
      // Not JSON, though it says so: the error quotes its start.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"session_id": ${body.pad}${body.data}`);
    } else if (req.url?.startsWith('/browsers/')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ session_id: 'b1', ...body }));
    } else if (req.url?.startsWith('/browsers')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify([{ session_id: 'b1', ...body }]));
    } else {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`refused: ${body.pad}${body.data}`);
    }
  });
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });

  it('never shows the start of a secret it cut through (object, list item, event, error body, invalid JSON)', async () => {
    const srv = inProcessServer({ baseUrl: url, apiKey: KEY, config: { maxResultTokens: 1000, maxRetries: 0 } });
    const session = await srv.connect('modern');
    const cutSeen = new Seen([PREFIX]);
    try {
      for (pad = 0; pad < KEY.length; pad += 5) {
        for (const [tool, args] of [
          ['browsers_retrieve', { id: 'b1' }],
          ['browsers_list', {}],
          ['browsers_telemetry_stream', { id: 'b1', max_seconds: 2 }],
          ['profiles_create', { name: 'p1' }],
          ['browsers_create', {}],
        ] as const) {
          const r = await session.call(tool, args);
          // The answer came back (cut, or as the error), with the whole copies replaced.
          expect(textOf(r), tool).toContain('[redacted]');
          cutSeen.add(`${tool} after ${pad} characters`, r);
        }
      }
    } finally {
      await session.close();
      await srv.close();
    }
    cutSeen.assertClean();
  });
});
