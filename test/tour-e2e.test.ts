/**
 * Every tool, once, through the built CLI over stdio (`--simulate --include-deprecated --toolsets all`), with
 * arguments that satisfy its schema; ids produced by one call feed the next (browser -> files -> processes ->
 * replays -> delete). No call may be an error except where the test expects one. The last test checks that every
 * listed tool was called.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeZip } from '../simulator/zip.js';
import { operations } from '../src/generated/kernel-operations.gen.js';
import { connectStdio, type McpSession, type ToolResult, text } from './helpers/mcp.js';
import { responseSchema, validateAgainst } from './helpers/simulator-spec.js';

let mcp: McpSession;
let listed: string[] = [];
const called = new Set<string>();
const ids: Record<string, string> = {};
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const name = (operationId: string) => {
  const row = operations.find((r) => r.operationId === operationId);
  if (!row) throw new Error(`no operation ${operationId}`);
  return row.name;
};

// biome-ignore lint/suspicious/noExplicitAny: tool results are arbitrary JSON that the test reads freely.
type Json = Record<string, any>;

/** The spec's schema for an operation's JSON success answer (the first 2xx that declares one). */
function successSchema(operationId: string): Json | undefined {
  for (const status of [200, 201, 202]) {
    const schema = responseSchema(operationId, status, 'application/json');
    if (schema) return schema;
  }
  return undefined;
}

/**
 * The API's answer behind a shaped one: an exec answer carries `status` and decoded `stdout`/`stderr` instead of the
 * API's base64 `stdout_b64`/`stderr_b64` (results shaped for agents), so those are encoded back before the check.
 */
function apiShape(operationId: string, body: Json): Json {
  if (operationId !== 'processExec') return body;
  const { status, stdout, stderr, ...rest } = body;
  expect(typeof status).toBe('string');
  return {
    ...rest,
    stdout_b64: Buffer.from(stdout).toString('base64'),
    stderr_b64: Buffer.from(stderr).toString('base64'),
  };
}

/**
 * Calls a tool by its name or operationId and requires success, and that the answer is the API's own: a JSON answer
 * is structured content that matches the spec's response schema (a list: `{items, has_more, next_offset}` whose
 * items match), with the same value as its text.
 */
async function ok(tool: string, args: Record<string, unknown> = {}): Promise<Json> {
  const n = tool.includes('_') ? tool : name(tool);
  const res = await mcp.call(n, args);
  called.add(n);
  expect(res.isError, `${n}: ${text(res)}`).toBeFalsy();
  const row = operations.find((r) => r.name === n);
  if (row?.answer.kind === 'json') {
    const body = res.structuredContent as Json;
    expect(body, `${n} answered no structured content`).toBeTypeOf('object');
    expect(JSON.parse(text(res)), `${n}: text and structured content differ`).toEqual(body);
    const schema = successSchema(row.operationId);
    if (row.answer.list) {
      expect(Array.isArray(body.items) && typeof body.has_more === 'boolean', `${n}: ${text(res)}`).toBe(true);
      if (schema?.items) {
        for (const item of body.items) expect(validateAgainst(schema.items, item, `${n} item`), n).toBeUndefined();
      }
    } else if (schema) {
      expect(validateAgainst(schema, apiShape(row.operationId, body), n), n).toBeUndefined();
    }
  }
  return (res.structuredContent ?? {}) as Json;
}

/** Calls a tool that must fail, with a message matching `pattern`. */
async function fails(tool: string, args: Record<string, unknown>, pattern: RegExp): Promise<ToolResult> {
  const n = tool.includes('_') ? tool : name(tool);
  const res = await mcp.call(n, args);
  called.add(n);
  expect(res.isError, `${n} should fail`).toBe(true);
  expect(text(res)).toMatch(pattern);
  return res;
}

async function raw(tool: string, args: Record<string, unknown>): Promise<ToolResult> {
  const n = tool.includes('_') ? tool : name(tool);
  const res = await mcp.call(n, args);
  called.add(n);
  expect(res.isError, `${n}: ${text(res)}`).toBeFalsy();
  return res;
}

/** Polls a read until `done` holds (bounded by attempts, not by time). */
async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, attempts = 200): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const v = await read();
    if (done(v)) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition never held');
}

/** Reads a stream tool until an event matches, following the cursor. */
async function readStream(tool: string, args: Record<string, unknown>, stop: (e: Json) => boolean) {
  const events: Json[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 50; i++) {
    const r = await ok(tool, { ...args, ...(cursor ? { after: cursor } : {}), max_seconds: 2 });
    events.push(...(r.events as Json[]));
    cursor = r.cursor ?? cursor;
    if (events.some((e) => stop(e.data)) || r.ended) break;
  }
  return events;
}

beforeAll(async () => {
  mcp = await connectStdio('modern', { args: ['--simulate', '--include-deprecated', '--toolsets', 'all'] });
  listed = (await mcp.listTools()).map((t) => t.name as string);
}, 60_000);
afterAll(async () => {
  await mcp?.close();
});

describe('tour of every tool', () => {
  it('lists every operation', () => {
    for (const r of operations) expect(listed, r.name).toContain(r.name);
  });

  it('organisation: projects, limits, API keys (and the deprecated /projects)', async () => {
    await ok('getOrgProjects');
    ids.project = (await ok('postOrgProjects', { name: 'staging' })).id;
    await fails('postOrgProjects', { name: 'staging' }, /Kernel API 409/);
    await ok('getOrgProjectsId', { id: ids.project });
    await ok('patchOrgProjectsId', { id: ids.project, name: 'staging-2' });
    await ok('getOrgProjectLimits', { id: ids.project });
    await ok('patchOrgProjectLimits', { id: ids.project, max_concurrent_sessions: 50 });
    await ok('getProjects', { limit: 1 });
    ids.legacy = (await ok('postProjects', { name: 'legacy' })).id;
    await ok('getProjectsId', { id: ids.legacy });
    await ok('patchProjectsId', { id: ids.legacy, status: 'archived' });
    await ok('getProjectLimits', { id: ids.legacy });
    await ok('patchProjectLimits', { id: ids.legacy, max_pooled_sessions: 10 });
    const key = await ok('postApiKeys', { name: 'ci', days_to_expire: 30, project_id: ids.project });
    ids.apiKey = key.id;
    await ok('listApiKeys', { limit: 1 });
    await ok('getApiKeysById', { id: ids.apiKey });
    await ok('patchApiKeysById', { id: ids.apiKey, name: 'ci-2' });
    await ok('deleteApiKeysById', { id: ids.apiKey });
    await ok('deleteOrgProjectsId', { id: ids.project });
    await ok('deleteProjectsId', { id: ids.legacy });
  });

  it('profiles, proxies, extensions', async () => {
    ids.profile = (await ok('postProfiles', { name: 'tour-profile' })).id;
    await ok('getProfiles', { query: 'tour' });
    await ok('getProfileByIdOrName', { id_or_name: 'tour-profile' });
    await raw('downloadProfileByIdOrName', { id_or_name: 'tour-profile' });
    ids.proxy = (await ok('postProxies', { name: 'dc', type: 'datacenter', config: { country: 'US' } })).id;
    await ok('getProxies');
    await ok('getProxiesById', { id: ids.proxy });
    await ok('postProxiesByIdCheck', { id: ids.proxy });
    const store = await raw('getExtensionsFromChromeStore', {
      url: 'https://chromewebstore.google.com/detail/some-ext/abcdefghijklmnopabcdefghijklmnop',
      os: 'linux',
    });
    const zip = (store.content.find((c) => c.type === 'resource')!.resource as { blob: string }).blob;
    ids.extensionZip = zip;
    await ok('postExtensions', { file: zip, name: 'tour-ext' });
    await ok('getExtensions');
    await raw('getExtensionByIdOrName', { id_or_name: 'tour-ext' });
  });

  it('browsers, computer controls and a screenshot', async () => {
    const b = await ok('postBrowsers', {
      headless: false,
      viewport: { width: 1024, height: 768 },
      profile: { name: 'tour-profile', save_changes: true },
      proxy_id: ids.proxy,
      extensions: [{ name: 'tour-ext' }],
      telemetry: {},
    });
    ids.browser = b.session_id;
    ids.headless = (await ok('postBrowsers', { headless: true })).session_id;
    const page = await ok('getBrowsers', { limit: 1 });
    expect(page.has_more).toBe(true);
    await ok('getBrowsersById', { id: ids.browser });
    await ok('patchBrowsersById', { id: ids.browser, viewport: { width: 1280, height: 800 } });
    const id = ids.browser;
    await ok('moveMouse', { id, x: 200, y: 150 });
    expect(await ok('getMousePosition', { id })).toEqual({ x: 200, y: 150 });
    await ok('clickMouse', { id, x: 300, y: 200, button: 'left', num_clicks: 2 });
    await ok('typeText', { id, text: 'hello' });
    await ok('pressKey', { id, keys: ['Return'] });
    await ok('scroll', { id, x: 300, y: 200, delta_y: 3 });
    await ok('dragMouse', {
      id,
      path: [
        [10, 10],
        [400, 300],
      ],
    });
    await ok('setCursor', { id, hidden: false });
    await ok('batchComputerAction', {
      id,
      actions: [{ type: 'move_mouse', move_mouse: { x: 640, y: 400 } }],
    });
    await ok('writeClipboard', { id, text: 'copied' });
    expect((await ok('readClipboard', { id })).text).toBe('copied');
    const shot = await raw('takeScreenshot', { id });
    expect(shot.content[0]).toMatchObject({ type: 'image', mimeType: 'image/jpeg' });
    expect(shot.structuredContent).toMatchObject({ width: 1280, height: 800 });
  });

  it('filesystem, watch events, uploads and zips', async () => {
    const id = ids.browser;
    await ok('createDirectory', { id, path: '/tmp/tour', mode: '755' });
    ids.watch = (await ok('startFsWatch', { id, path: '/tmp/tour', recursive: true })).watch_id;
    await ok('writeFile', { id, path: '/tmp/tour/a.txt', mode: '600', content: b64('hello file') });
    const read = await raw('readFile', { id, path: '/tmp/tour/a.txt' });
    expect((read.content[0]!.resource as { text: string }).text).toBe('hello file');
    expect(await ok('fileInfo', { id, path: '/tmp/tour/a.txt' })).toMatchObject({ name: 'a.txt', size_bytes: 10 });
    await ok('setFilePermissions', { id, path: '/tmp/tour/a.txt', mode: '644' });
    await ok('movePath', { id, src_path: '/tmp/tour/a.txt', dest_path: '/tmp/tour/b.txt' });
    await ok('uploadFiles', {
      id,
      files: [
        { file: b64('one'), dest_path: '/tmp/tour/up/one.txt' },
        { file: b64('two'), dest_path: '/tmp/tour/up/two.txt' },
      ],
    });
    const zip = writeZip([{ name: 'nested/c.txt', data: Buffer.from('c'.repeat(50)), isDir: false }]);
    await ok('uploadZip', { id, zip_file: b64(zip), dest_path: '/tmp/tour/unzipped' });
    const listing = await ok('listFiles', { id, path: '/tmp/tour' });
    expect((listing.items as Json[]).map((f) => f.name)).toEqual(['b.txt', 'unzipped', 'up']);
    const dirZip = await raw('downloadDirZip', { id, path: '/tmp/tour' });
    expect(dirZip.content[0]!.type).toBe('resource');
    await ok('deleteFile', { id, path: '/tmp/tour/b.txt' });
    const events = await readStream('streamFsEvents', { id, watch_id: ids.watch }, (e) => e.type === 'DELETE');
    expect(events.map((e) => e.data.type)).toContain('CREATE');
    await ok('stopFsWatch', { id, watch_id: ids.watch });
    await ok('deleteDirectory', { id, path: '/tmp/tour' });
    await fails('fileInfo', { id, path: '/tmp/tour' }, /Kernel API 404/);
  });

  it('processes: exec, spawn, stdin, resize, output stream, kill', async () => {
    const id = ids.browser;
    const exec = await ok('processExec', { id, command: 'echo', args: ['hello', 'world'] });
    expect(exec).toMatchObject({ status: 'ok', exit_code: 0, stdout: 'hello world\n' });
    expect(exec.stdout_b64).toBeUndefined();
    const spawned = await ok('processSpawn', { id, command: 'bash', allocate_tty: true, rows: 24, cols: 80 });
    const proc = { id, process_id: spawned.process_id };
    expect((await ok('processStatus', proc)).state).toBe('running');
    await ok('processStdin', { ...proc, data_b64: b64('echo from-stdin\n') });
    await ok('processResize', { ...proc, rows: 40, cols: 120 });
    const out = await readStream('processStdoutStream', proc, (d) => String(d.data ?? '').includes('from-stdin'));
    expect(out.length).toBeGreaterThan(0);
    await ok('processKill', { ...proc, signal: 'TERM' });
    await until(
      () => ok('processStatus', proc),
      (s) => s.state === 'exited',
    );
  });

  it('playwright, curl, logs, telemetry, ad-hoc extensions', async () => {
    const id = ids.browser;
    const pw = await ok('executePlaywrightCode', { id, code: "await page.goto('https://example.org'); return 1;" });
    expect(pw.success).toBe(true);
    expect(await ok('browsers_page_snapshot', { id })).toMatchObject({
      url: 'https://example.org',
      title: 'Example Domain',
    });
    expect((await ok('browserCurl', { id, url: 'https://example.com/status/404' })).status).toBe(404);
    const logs = await ok('logsStream', { id, source: 'supervisor', supervisor_process: 'chromium', max_seconds: 2 });
    expect((logs.events as Json[]).length).toBeGreaterThan(0);
    const telemetry = await readStream('streamBrowserTelemetry', { id }, () => true);
    expect(telemetry[0]!.seq).toBe(1);
    await ok('uploadExtensionsToBrowser', { id, extensions: [{ zip_file: ids.extensionZip, name: 'adhoc' }] });
  });

  it('replays: start, list, stop, download', async () => {
    const id = ids.browser;
    const started = await ok('startBrowserReplayRecording', { id, framerate: 10 });
    await ok('listBrowsersReplays', { id });
    await ok('stopBrowserReplayRecording', { id, replay_id: started.replay_id });
    const video = await until(
      () => raw('getBrowsersReplaysById', { id, replay_id: started.replay_id }),
      (r) => (r.structuredContent as Json | undefined)?.status !== 202,
    );
    expect(video.content[0]!.type).toMatch(/resource/);
  });

  it('browser pools: acquire, release, flush, delete', async () => {
    await ok('postBrowserPools', { name: 'tour-pool', size: 1, headless: true });
    await ok('getBrowserPools');
    await ok('getBrowserPoolsByIdOrName', { id_or_name: 'tour-pool' });
    await ok('updateBrowserPoolsByIdOrName', { id_or_name: 'tour-pool', size: 1, headless: true });
    const leased = await ok('acquireFromBrowserPoolByIdOrName', { id_or_name: 'tour-pool' });
    await ok('releaseToBrowserPoolByIdOrName', { id_or_name: 'tour-pool', session_id: leased.session_id, reuse: true });
    await ok('flushBrowserPoolByIdOrName', { id_or_name: 'tour-pool' });
    await ok('deleteBrowserPoolsByIdOrName', { id_or_name: 'tour-pool' });
  });

  it('deployments, apps and invocations with their event streams', async () => {
    const source = "const app = kernel.app('tour-app');\napp.action('analyze', async () => ({ ok: true }));\n";
    const zip = writeZip([{ name: 'src/index.ts', data: Buffer.from(source), isDir: false }]);
    const dep = await ok('postDeployments', { file: b64(zip), entrypoint_rel_path: 'src/index.ts', version: '1.0.0' });
    ids.deployment = dep.id;
    const events = await readStream(
      'getDeploymentsEventsById',
      { id: ids.deployment },
      (e) => e.event === 'app_version_summary',
    );
    expect(events.length).toBeGreaterThan(0);
    await ok('getDeploymentsById', { id: ids.deployment });
    await ok('getDeployments', { app_name: 'tour-app' });
    await ok('getApps', { app_name: 'tour-app' });
    const inv = await ok('postInvocations', {
      app_name: 'tour-app',
      version: '1.0.0',
      action_name: 'analyze',
      payload: '{"hold":true}',
      async: true,
    });
    ids.invocation = inv.id;
    await ok('getInvocations', { app_name: 'tour-app', limit: 1 });
    await ok('getInvocationsById', { id: ids.invocation });
    await ok('postBrowsers', { invocation_id: ids.invocation, headless: true });
    await ok('getInvocationsBrowsersById', { id: ids.invocation });
    await ok('deleteInvocationsBrowsersById', { id: ids.invocation });
    await ok('patchInvocationsById', { id: ids.invocation, status: 'succeeded', output: '{"done":true}' });
    const invEvents = await readStream(
      'getInvocationsEventsById',
      { id: ids.invocation },
      (e) => e.invocation?.status === 'succeeded',
    );
    expect(invEvents.length).toBeGreaterThan(0);
    await ok('deleteDeploymentsById', { id: ids.deployment });
  });

  it('credentials and credential providers', async () => {
    await ok('postCredentials', {
      name: 'tour-cred',
      domain: 'example.com',
      values: { username: 'me', password: 'pw-secret-value' },
      totp_secret: 'JBSWY3DPEHPK3PXP',
    });
    await ok('getCredentials', { domain: 'example.com' });
    await ok('getCredentialByIdOrName', { id_or_name: 'tour-cred' });
    await ok('patchCredentialByIdOrName', { id_or_name: 'tour-cred', values: { password: 'pw-secret-value-2' } });
    expect((await ok('getCredentialTotpCodeByIdOrName', { id_or_name: 'tour-cred' })).code).toMatch(/^\d{6}$/);
    const provider = await ok('postCredentialProviders', {
      provider_type: 'onepassword',
      name: 'my-1p',
      token: 'ops_tok_123456',
    });
    await ok('getCredentialProviders');
    await ok('getCredentialProvidersById', { id: provider.id });
    await ok('patchCredentialProvidersById', { id: provider.id, priority: 5 });
    await ok('testCredentialProviderById', { id: provider.id });
    await ok('getCredentialProviderItems', { id: provider.id });
    await ok('deleteCredentialProvidersById', { id: provider.id });
    expect(mcp.stderr()).not.toContain('pw-secret-value');
  });

  it('auth connections: login, exchange, submit, events', async () => {
    const conn = await ok('postAuthConnections', { domain: 'netflix.com', profile_name: 'tour-auth' });
    const id = conn.id;
    await ok('getAuthConnections', { domain: 'netflix.com' });
    await ok('getAuthConnectionsById', { id });
    await ok('patchAuthConnectionsById', { id, health_check_interval: 1200 });
    const login = await ok('postAuthConnectionsLogin', { id });
    await ok('postAuthConnectionsExchange', { id, code: login.handoff_code });
    await until(
      () => ok('getAuthConnectionsById', { id }),
      (c) => c.flow_step === 'AWAITING_INPUT',
    );
    await ok('postAuthConnectionsSubmit', { id, fields: { username: 'me@example.com', password: 'hunter2-secret' } });
    const events = await readStream('getAuthConnectionsEventsById', { id }, (e) => e.flow_step === 'COMPLETED');
    expect(events.map((e) => e.data.flow_step)).toContain('COMPLETED');
    await ok('deleteAuthConnectionsById', { id });
  });

  it('deprecated managed auth agents', async () => {
    const agent = await ok('postAgentsAuth', { domain: 'example.org', profile_name: 'agent-profile' });
    await ok('getAgentsAuth');
    await ok('getAgentsAuthById', { id: agent.id });
    const inv = await ok('postAgentsAuthInvocations', { auth_agent_id: agent.id });
    const invocation_id = inv.invocation_id;
    await ok('postAgentsAuthInvocationsExchange', { invocation_id, code: inv.handoff_code });
    await until(
      () => ok('getAgentsAuthInvocationsInvocationId', { invocation_id }),
      (a) => a.step === 'awaiting_input',
    );
    await ok('postAgentsAuthInvocationsSubmit', { invocation_id, field_values: { username: 'me', password: 'pw' } });
    await ok('deleteAgentsAuthById', { id: agent.id });
  });

  it('proxy-pool sessions', async () => {
    const ws = 'AY+MHnorfD2eTxorPE1ebw==';
    const pool = { workspace_id: ws, pool_id: 'AY+MISIifMyN3T09PT09PQ==', provider_id: 'AY+MIBEReqqLuywsLCwsLA==' };
    const created = await ok('proxy_pool_sessions_create', { ...pool, token: 'sess-tour' });
    await ok('proxy_pool_sessions_bulk_create', { ...pool, sessions: [{ token: 'sess-a' }, { token: 'sess-b' }] });
    const session = (created.session ?? created) as Json;
    await ok('proxy_pool_sessions_delete', { workspace_id: ws, id: session.id });
  });

  it('cleanup: deletes everything created', async () => {
    await ok('deleteCredentialByIdOrName', { id_or_name: 'tour-cred' });
    await ok('deleteExtensionByIdOrName', { id_or_name: 'tour-ext' });
    await ok('deleteBrowsersById', { id: ids.browser });
    await ok('deleteBrowsersById', { id: ids.headless });
    await fails('getBrowsersById', { id: 'gone-browser' }, /Kernel API 404/);
    await ok('deleteProfileByIdOrName', { id_or_name: 'tour-profile' });
    await ok('deleteProxiesById', { id: ids.proxy });
  });

  it('called every listed tool', () => {
    const missing = listed.filter((n) => !called.has(n));
    expect(missing).toEqual([]);
  });
});
