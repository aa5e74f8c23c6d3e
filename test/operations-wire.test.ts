/**
 * Operation tools in process (so a mutant of src/tools/operations.ts is seen), with the real client, stream hub and
 * config: requests checked where they arrive (the simulator, or a scripted loopback service that records bodies),
 * answers shaped as an agent gets them. From the surviving mutants of operations.ts.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../simulator/index.js';
import { type Config, makeConfig } from '../src/config.js';
import { KernelClient } from '../src/kernel/client.js';
import type { OperationRow } from '../src/kernel/operation.js';
import { silentLogger } from '../src/log.js';
import { redact } from '../src/redact.js';
import { StreamHub } from '../src/resources/hub.js';
import type { ToolContext } from '../src/tools/define.js';
import { buildRequest, callOperation, operationsByName, operationTools } from '../src/tools/operations.js';
import { json, type LoopbackApi, rejection, startLoopbackApi } from './helpers/loopback-api.js';

const KEY = 'sk_operations_wire_0123456789';
const PROCESS = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';

let sim: Simulator;
let api: LoopbackApi;
let browser: string;
const hubs: StreamHub[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  sim = await startSimulator({ apiKey: KEY });
  api = await startLoopbackApi();
  // Made with the plain client: a mutant of operations.ts must fail the tests, not this hook (a failing hook skips them).
  const created = await new KernelClient({ baseUrl: sim.url, apiKey: KEY }).json<{ session_id: string }>({
    method: 'POST',
    path: '/browsers',
    json: {},
  });
  browser = created.data.session_id;
});
afterAll(async () => {
  for (const h of hubs) h.close();
  await api?.close();
  await sim?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface CtxOptions {
  baseUrl?: string;
  /** stdio: local files allowed and an output folder. */
  stdio?: boolean;
  config?: Partial<Config>;
}

function context(options: CtxOptions = {}): ToolContext {
  const baseUrl = options.baseUrl ?? sim.url;
  const config = makeConfig({ apiKey: KEY, baseUrl, maxRetries: 0, ...options.config });
  const client = new KernelClient({
    baseUrl,
    apiKey: KEY,
    maxRetries: 0,
    maxAnswerBytes: config.maxAnswerBytes,
  });
  const hub = new StreamHub(client, {
    bufferEvents: config.streamBufferEvents,
    bufferBytes: config.streamBufferBytes,
    idleMs: config.streamIdleMs,
    logger: silentLogger,
  });
  hubs.push(hub);
  return {
    client,
    config,
    logger: silentLogger,
    hub,
    localFiles: options.stdio ?? false,
    signal: new AbortController().signal,
    progress: async () => {},
  };
}

const row = (name: string) => {
  const r = operationsByName.get(name);
  if (!r) throw new Error(`no operation ${name}`);
  return r;
};
/** Calls the tool's operation with arguments parsed by its own input schema (as a client's call would be). */
async function call(name: string, args: Record<string, unknown>, options: CtxOptions = {}) {
  const tool = operationTools.find((t) => t.name === name)!;
  return callOperation(row(name), tool.input().parse(args), context(options));
}
const textOf = (r: { content: unknown[] }) =>
  ((r.content as { type: string; text?: string }[]).find((c) => c.type === 'text')?.text ?? '') as string;
function outputDir() {
  const d = mkdtempSync(join(tmpdir(), 'operations-wire-'));
  dirs.push(d);
  return d;
}
const failure = (p: Promise<unknown>) => rejection(p);
const mark = () => api.since();

describe('the request an operation sends', () => {
  it('path arguments encoded as one segment each, query arguments only when given', async () => {
    const seen = mark();
    api.answer((_req, res) => json(res, 200, []));
    await call('browsers_list', { limit: 2 }, { baseUrl: api.url });
    await call(
      'browsers_list',
      { limit: 2, offset: 0, include_deleted: false, status: 'active' },
      { baseUrl: api.url },
    );
    api.answer((_req, res) => json(res, 200, { id: 'x' }));
    await call('profiles_retrieve', { id_or_name: 'my profile/#1?' }, { baseUrl: api.url });
    expect(seen().map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /browsers?limit=2',
      'GET /browsers?status=active&include_deleted=false&limit=2&offset=0',
      'GET /profiles/my%20profile%2F%231%3F',
    ]);
  });

  it('a JSON body with the given fields only, {} when none; no body for GET', async () => {
    const seen = mark();
    api.answer((_req, res) => json(res, 200, { session_id: 'b' }));
    await call('browsers_create', { headless: true, timeout_seconds: 60 }, { baseUrl: api.url });
    await call('browsers_create', {}, { baseUrl: api.url });
    await call('browsers_retrieve', { id: 'b' }, { baseUrl: api.url });
    expect(seen().length).toBe(3);
    const [a, b, c] = seen();
    expect(a!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(a!.body.toString())).toEqual({ headless: true, timeout_seconds: 60 });
    expect(JSON.parse(b!.body.toString())).toEqual({});
    expect(c!.body.length).toBe(0);
    expect(c!.headers['content-type']).toBeUndefined();
  });

  it('a bytes body with the operation’s media type (empty without content), and multipart forms', async () => {
    const seen = mark();
    api.answer((_req, res) => {
      res.writeHead(204);
      res.end();
    });
    const content = Buffer.from('hello, file').toString('base64');
    await call('browsers_fs_write_file', { id: 'b', path: '/tmp/a.txt', content }, { baseUrl: api.url });
    const upload = row('browsers_fs_upload');
    const req = await buildRequest(
      upload,
      { id: 'b', files: [{ dest_path: '/tmp/u.txt', file: Buffer.from('uploaded!').toString('base64') }] },
      false,
    );
    await context({ baseUrl: api.url }).client.request(req);
    const [write, form] = seen();
    expect(write!.method).toBe('PUT');
    expect(write!.url).toBe('/browsers/b/fs/write_file?path=%2Ftmp%2Fa.txt');
    expect(write!.headers['content-type']).toBe('application/octet-stream');
    expect(write!.body.toString()).toBe('hello, file');
    expect(form!.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(form!.body.toString()).toContain('uploaded!');
    const empty = await buildRequest(row('browsers_fs_write_file'), { id: 'b', path: '/x' }, false);
    expect(empty.bytes?.length).toBe(0);
    expect(empty.contentType).toBe('application/octet-stream');
  });

  it('content from a local file over stdio only; over HTTP the error names the argument and what to send', async () => {
    const dir = outputDir();
    const local = join(dir, 'local.txt');
    writeFileSync(local, 'from disk');
    const seen = mark();
    api.answer((_req, res) => {
      res.writeHead(204);
      res.end();
    });
    await call(
      'browsers_fs_write_file',
      { id: 'b', path: '/x', content_path: local },
      { baseUrl: api.url, stdio: true },
    );
    expect(seen()[0]!.body.toString()).toBe('from disk');
    const err = await failure(
      call('browsers_fs_write_file', { id: 'b', path: '/x', content_path: local }, { baseUrl: api.url }),
    );
    expect(err.message).toBe(
      'Invalid argument content_path: local file paths are not read over HTTP. Send the content base64-encoded in content instead.',
    );
    expect(seen().length).toBe(1);
  });

  it('header arguments become headers (the telemetry stream’s Last-Event-ID)', async () => {
    const req = await buildRequest(row('browsers_telemetry_stream'), { id: 'b', last_event_id: '42' }, false);
    expect(req).toMatchObject({ method: 'GET', path: '/browsers/b/telemetry', headers: { 'Last-Event-ID': '42' } });
    const without = await buildRequest(row('browsers_telemetry_stream'), { id: 'b' }, false);
    expect(without.headers).toBeUndefined();
    expect(without.query).toBeUndefined();
  });
});

describe('write-only secrets', () => {
  it('are registered before the request: objects, nested paths and multipart bodies', async () => {
    api.answer((_req, res) => json(res, 200, { id: 'x' }));
    const proxyPassword = `proxy-pass-${randomUUID()}`;
    await call(
      'proxies_create',
      { type: 'custom', name: 'p', config: { host: 'h.example', port: 8080, username: 'u', password: proxyPassword } },
      { baseUrl: api.url },
    );
    expect(redact(`x ${proxyPassword} y`)).toBe('x [redacted] y');
    const values = { username: `user-${randomUUID()}`, password: `cred-pass-${randomUUID()}` };
    await call('credentials_create', { name: 'c', domain: 'example.com', values }, { baseUrl: api.url });
    expect(redact(values.password)).toBe('[redacted]');
    expect(redact(values.username)).toBe('[redacted]');
    const token = `git-token-${randomUUID()}`;
    const deploy = row('deployments_create');
    await buildRequest(
      deploy,
      { source: { type: 'github', url: 'https://x', ref: 'main', entrypoint: 'a.ts', auth: { token } } },
      false,
    );
    expect(redact(token)).toBe('[redacted]');
  });

  it('inside arrays on the path, and nothing else', async () => {
    const base = row('proxies_create');
    const synthetic: OperationRow = { ...base, secrets: ['items.secret'] };
    const [kept, one, two] = [
      `not-a-secret-${randomUUID()}`,
      `array-secret-${randomUUID()}`,
      `array-secret-${randomUUID()}`,
    ];
    await buildRequest(
      { ...synthetic, body: { ...base.body, fields: ['items'] } },
      { items: [{ secret: one }, { secret: [two, null, 7], other: kept }, { secret: null }, 'loose', null] },
      false,
    );
    expect(redact(`${one} ${two}`)).toBe('[redacted] [redacted]');
    expect(redact(kept)).toBe(kept);
    // A request without the secret-holding field registers nothing and is sent as usual.
    const seen = mark();
    api.answer((_req, res) => json(res, 200, { id: 'x' }));
    await call('proxies_create', { type: 'datacenter', name: 'no-config' }, { baseUrl: api.url });
    expect(JSON.parse(seen()[0]!.body.toString())).toEqual({ type: 'datacenter', name: 'no-config' });
  });
});

describe('answers', () => {
  it('a list page: has_more and next_offset from the headers, a cut page continues from the offset asked for', async () => {
    for (let i = 0; i < 3; i++) await call('browsers_create', {});
    const page = await call('browsers_list', { limit: 2, offset: 1 });
    const body = page.structuredContent as { items: unknown[]; has_more: boolean; next_offset: number | null };
    expect(body.items.length).toBe(2);
    expect(body.has_more).toBe(true);
    expect(body.next_offset).toBe(3);
    const last = await call('browsers_list', { limit: 100 });
    expect(last.structuredContent).toMatchObject({ has_more: false, next_offset: null });
    const items = Array.from({ length: 40 }, (_, i) => ({ session_id: `s${i}`, pad: 'p'.repeat(300) }));
    api.answer((_req, res) => json(res, 200, items, { 'x-has-more': 'true', 'x-next-offset': '140' }));
    const cut = await call(
      'browsers_list',
      { limit: 40, offset: 100 },
      { baseUrl: api.url, config: { maxResultTokens: 1000 } },
    );
    const c = cut.structuredContent as { items: { session_id: string }[]; next_offset: number; has_more: boolean };
    expect(c.has_more).toBe(true);
    expect(c.next_offset).toBe(100 + c.items.length);
    expect(c.items[0]!.session_id).toBe('s0');
    const noOffset = await call(
      'browsers_list',
      { limit: 40 },
      { baseUrl: api.url, config: { maxResultTokens: 1000 } },
    );
    expect((noOffset.structuredContent as { next_offset: number }).next_offset).toBe(c.items.length);
    api.answer((_req, res) => json(res, 200, [{ a: 1 }], { 'x-has-more': 'true' }));
    const unknownNext = await call('browsers_list', {}, { baseUrl: api.url });
    expect(unknownNext.structuredContent).toEqual({ items: [{ a: 1 }], has_more: true, next_offset: null });
  });

  it('an array answer of an operation that is not a paged list is {result: [...]}', async () => {
    api.answer((_req, res) => json(res, 200, [{ session_id: 'b1' }], { 'x-has-more': 'true', 'x-next-offset': '1' }));
    const r = await call('invocations_list_browsers', { id: 'inv' }, { baseUrl: api.url });
    expect(r.structuredContent).toEqual({ result: [{ session_id: 'b1' }] });
  });

  it('a JSON answer decodes *_b64 text fields; process exec leads with its status', async () => {
    api.answer((_req, res) =>
      json(res, 200, {
        stdout_b64: Buffer.from('out\n').toString('base64'),
        stderr_b64: Buffer.from('bad thing\nmore').toString('base64'),
        exit_code: 2,
      }),
    );
    const exec = await call('browsers_process_exec', { id: 'b', command: 'false' }, { baseUrl: api.url });
    expect(exec.structuredContent).toEqual({
      status: 'failed: exit code 2 (bad thing)',
      stdout: 'out\n',
      stderr: 'bad thing\nmore',
      exit_code: 2,
    });
    api.answer((_req, res) => json(res, 200, null));
    const nothing = await call('browsers_process_exec', { id: 'b', command: 'true' }, { baseUrl: api.url });
    expect(nothing.structuredContent).toEqual({ result: null });
    api.answer((_req, res) => json(res, 200, [{ exit_code: 1 }]));
    const list = await call('browsers_process_exec', { id: 'b', command: 'true' }, { baseUrl: api.url });
    expect(list.structuredContent).toEqual({ result: [{ exit_code: 1 }] });
    api.answer((_req, res) => json(res, 200, { output_b64: Buffer.from('plain').toString('base64'), exit_code: 0 }));
    const other = await call('browsers_process_status', { id: 'b', process_id: PROCESS }, { baseUrl: api.url });
    expect(other.structuredContent).toEqual({ output: 'plain', exit_code: 0 });
  });

  it('nothing to show: Done or Accepted with the status, method and path', async () => {
    api.answer((_req, res) => {
      res.writeHead(204);
      res.end();
    });
    const done = await call('browsers_delete', { id: 'gone' }, { baseUrl: api.url });
    expect(textOf(done)).toBe('Done (HTTP 204, DELETE /browsers/gone).');
    api.answer((_req, res) => {
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end();
    });
    const accepted = await call('browsers_fs_create_directory', { id: 'b', path: '/d' }, { baseUrl: api.url });
    expect(accepted.structuredContent).toEqual({ ok: true, status: 202 });
    expect(textOf(accepted)).toBe('Accepted (HTTP 202, PUT /browsers/b/fs/create_directory).');
    api.answer((_req, res) => {
      res.writeHead(204, { 'content-type': 'application/json' });
      res.end();
    });
    const noContent = await call('browsers_retrieve', { id: 'b' }, { baseUrl: api.url });
    expect(textOf(noContent)).toBe('Done (HTTP 204, GET /browsers/b).');
  });

  it('invalid JSON says where it came from and how it starts', async () => {
    api.answer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(`<html>${'x'.repeat(200)}`);
    });
    const err = await failure(call('browsers_retrieve', { id: 'b' }, { baseUrl: api.url }));
    expect(err.message).toBe(
      `Kernel API answered invalid JSON (GET /browsers/b), starting ${JSON.stringify(`<html>${'x'.repeat(74)}`)}. Check KERNEL_BASE_URL points at the Kernel API.`,
    );
    expect(err).toMatchObject({ kind: 'invalid_response', status: 200, method: 'GET', path: '/browsers/b' });
  });
});

describe('not found', () => {
  it('names the path arguments to check and where valid values come from', async () => {
    const browserGone = await failure(call('browsers_retrieve', { id: 'no-such-browser' }));
    expect(browserGone.message).toMatch(
      / Check `id`: browsers_list shows the live browsers \(a deleted or timed-out browser is gone\)\.$/,
    );
    expect(browserGone).toMatchObject({ kind: 'api', status: 404, method: 'GET', path: '/browsers/no-such-browser' });
    expect((browserGone as { code?: string }).code).toBeTruthy();
    const process = await failure(call('browsers_process_status', { id: browser, process_id: PROCESS }));
    expect(process.message).toMatch(
      / Check `id`, `process_id`: browsers_list shows the live browsers \(a deleted or timed-out browser is gone\); use the process_id browsers_process_spawn returned\.$/,
    );
    const file = await failure(call('browsers_fs_file_info', { id: browser, path: '/no/such/file' }));
    expect(file.message).toMatch(
      / Check `id`, `path`: browsers_list shows the live browsers \(a deleted or timed-out browser is gone\); browsers_fs_list_files shows what exists\.$/,
    );
    const profile = await failure(call('profiles_retrieve', { id_or_name: 'no-such-profile' }));
    expect(profile.message).toMatch(/ Check `id_or_name`\.$/);
  });

  it('leaves other errors and operations without path arguments as they are', async () => {
    api.answer((_req, res) => json(res, 404, { code: 'not_found', message: 'nothing here' }));
    const list = await failure(call('browsers_list', {}, { baseUrl: api.url }));
    expect(list.message).toBe('Kernel API 404 not_found: nothing here (GET /browsers).');
    api.answer((_req, res) => json(res, 409, { code: 'conflict', message: 'busy' }));
    const conflict = await failure(call('browsers_retrieve', { id: 'b' }, { baseUrl: api.url }));
    expect(conflict.message).toBe('Kernel API 409 conflict: busy (GET /browsers/b).');
    api.answer((_req, res) => json(res, 404, { message: 'no code' }));
    const noCode = await failure(call('browsers_retrieve', { id: 'b' }, { baseUrl: api.url }));
    expect(noCode).toMatchObject({ status: 404, code: 'not_found' });
  });
});

describe('bytes answers', () => {
  it('a browser file reads back at its file URI; other GET bytes at their API path; a JSON file is not bytes', async () => {
    const text = 'line one\nline two\n';
    await call('browsers_fs_write_file', {
      id: browser,
      path: '/tmp/notes dir/read me.txt',
      content: Buffer.from(text).toString('base64'),
    });
    const read = await call('browsers_fs_read_file', { id: browser, path: '/tmp/notes dir/read me.txt' });
    const resource = (read.content[0] as { resource: { uri: string; text: string; mimeType: string } }).resource;
    expect(resource.text).toBe(text);
    expect(resource.uri).toBe(`kernel://browsers/${browser}/files/tmp/notes%20dir/read%20me.txt`);
    api.answer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.from([0, 1, 2, 3, 255]));
    });
    const ext = await call(
      'extensions_download_from_chrome_store',
      { url: 'https://chrome.example/x', os: 'linux' },
      { baseUrl: api.url },
    );
    const blob = (ext.content[0] as { resource: { uri: string; blob: string; mimeType: string } }).resource;
    expect(blob.uri).toBe('kernel://api/extensions/from_chrome_store?url=https%3A%2F%2Fchrome.example%2Fx&os=linux');
    expect(Buffer.from(blob.blob, 'base64')).toEqual(Buffer.from([0, 1, 2, 3, 255]));
    expect(blob.mimeType).toBe('application/octet-stream');
  });

  it('an image file read from the browser comes back as it is (only screenshots are rescaled)', async () => {
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
      'base64',
    );
    api.answer((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(png);
    });
    const r = await call('browsers_fs_read_file', { id: 'b', path: '/tmp/dot.png' }, { baseUrl: api.url });
    expect(r.content[0]).toEqual({ type: 'image', data: png.toString('base64'), mimeType: 'image/png' });
    expect(r.structuredContent).toEqual({ media_type: 'image/png', bytes: png.length, width: 1, height: 1 });
  });

  it('without a content type the operation’s own media type is used', async () => {
    api.answer((_req, res) => {
      res.writeHead(200);
      res.end(Buffer.from([0, 9, 9]));
    });
    const zip = await call('browsers_fs_download_dir_zip', { id: 'b', path: '/tmp' }, { baseUrl: api.url });
    expect((zip.content[0] as { resource: { mimeType: string; uri: string } }).resource).toMatchObject({
      mimeType: 'application/zip',
      uri: 'kernel://api/browsers/b/fs/download_dir_zip?path=%2Ftmp',
    });
  });

  it('over HTTP, bytes over --max-answer-bytes are refused before they are read, naming the bound', async () => {
    api.answer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/zip' });
      res.end(Buffer.alloc(5000, 1));
    });
    const err = await failure(
      call(
        'browsers_fs_download_dir_zip',
        { id: 'b', path: '/tmp' },
        { baseUrl: api.url, config: { maxAnswerBytes: 4096 } },
      ),
    );
    expect(err.message).toBe(
      'The answer is over 4096 bytes, the most returned inline over HTTP; it was not read. Narrow the request, or use kernel-mcp over stdio, where large answers are saved to --output-dir (GET /browsers/b/fs/download_dir_zip)',
    );
  });

  it('over stdio, a large answer is saved to the output folder under a name from the path or the operation', async () => {
    const dir = outputDir();
    const big = Buffer.alloc(8 * 1024 * 1024 + 10, 3);
    api.answer((_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/zip',
        'content-disposition': 'attachment; filename="ignored.zip"',
      });
      res.end(big);
    });
    const stdio = { baseUrl: api.url, stdio: true, config: { outputDir: dir, inlineBinaryBytes: 1024 } };
    const zip = await call('browsers_fs_download_dir_zip', { id: 'b', path: '/home/user/project' }, stdio);
    const saved = zip.structuredContent as { file: string; bytes: number; media_type: string };
    expect(saved.bytes).toBe(big.length);
    expect(saved.media_type).toBe('application/zip');
    expect(saved.file.startsWith(dir)).toBe(true);
    expect(saved.file.endsWith('-project.zip')).toBe(true);
    expect(readFileSync(saved.file).length).toBe(big.length);
    api.answer((_req, res) => {
      res.writeHead(200);
      res.end(big);
    });
    const replay = await call('browsers_replays_download', { id: 'b', replay_id: 'r1' }, stdio);
    const r = replay.structuredContent as { file: string; media_type: string };
    expect(r.file.endsWith('-browsers_replays_download.mp4')).toBe(true);
    expect(r.media_type).toBe('video/mp4');
    const profile = await call('profiles_download', { id_or_name: 'p' }, stdio);
    expect((profile.structuredContent as { file: string }).file.endsWith('-profiles_download')).toBe(true);
  });

  it('over stdio, a smaller answer past the inline size is saved under its Content-Disposition name', async () => {
    const dir = outputDir();
    api.answer((_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-disposition': "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.tar.zst",
      });
      res.end(Buffer.alloc(4096, 0));
    });
    const stdio = { baseUrl: api.url, stdio: true, config: { outputDir: dir, inlineBinaryBytes: 1024 } };
    const profile = await call('profiles_download', { id_or_name: 'p' }, stdio);
    const saved = profile.structuredContent as { file: string; bytes: number };
    expect(saved.bytes).toBe(4096);
    expect(saved.file.endsWith('-r_sum_.tar.zst')).toBe(true);
    expect(existsSync(saved.file)).toBe(true);
    api.answer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/zip' });
      res.end(Buffer.alloc(4096, 0));
    });
    const named = await call('browsers_fs_download_dir_zip', { id: 'b', path: '/data/archive.zip' }, stdio);
    expect((named.structuredContent as { file: string }).file.endsWith('-archive.zip')).toBe(true);
    const folder = await call('browsers_fs_download_dir_zip', { id: 'b', path: '/data/reports/' }, stdio);
    expect((folder.structuredContent as { file: string }).file.endsWith('-reports.zip')).toBe(true);
    for (const [disposition, ending] of [
      ['attachment; filename="plain name.tar.zst"', '-plain_name.tar.zst'],
      ['inline', '-profiles_download'],
    ] as const) {
      api.answer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-disposition': disposition });
        res.end(Buffer.alloc(4096, 0));
      });
      const r = await call('profiles_download', { id_or_name: 'p' }, stdio);
      expect((r.structuredContent as { file: string }).file.endsWith(ending)).toBe(true);
    }
    const http = await call(
      'browsers_fs_download_dir_zip',
      { id: 'b', path: '/data/archive.zip' },
      {
        baseUrl: api.url,
        config: { outputDir: dir, inlineBinaryBytes: 1024 },
      },
    );
    expect((http.content[0] as { resource: { blob: string } }).resource.blob.length).toBeGreaterThan(4096);
  });
});

describe('screen coordinates', () => {
  it('are scaled from screenshot pixels to the viewport, which is remembered until browsers_update changes it', async () => {
    let viewport = { width: 3136, height: 1764 };
    api.answer((req, res, seen) => {
      if (req.method === 'GET') return json(res, 200, { session_id: 'b', viewport });
      if (req.method === 'PATCH') {
        viewport = JSON.parse(seen.body.toString()).viewport;
        return json(res, 200, { session_id: 'b', viewport });
      }
      if (req.url?.endsWith('/get_mouse_position')) return json(res, 200, { x: 200, y: 100 });
      res.writeHead(204);
      res.end();
    });
    const ctx = { ...context({ baseUrl: api.url }), viewports: new Map<string, { width: number; height: number }>() };
    const tool = (name: string) => operationTools.find((t) => t.name === name)!;
    const run = (name: string, args: Record<string, unknown>) =>
      callOperation(row(name), tool(name).input().parse(args), ctx);
    const seen = mark();
    await run('browsers_computer_click_mouse', { id: 'b', x: 100, y: 50 });
    await run('browsers_computer_click_mouse', { id: 'b', x: 10, y: 5 });
    const position = await run('browsers_computer_get_mouse_position', { id: 'b' });
    expect(position.structuredContent).toEqual({ x: 100, y: 50 });
    await run('browsers_update', { id: 'b', viewport: { width: 1568, height: 882 } });
    await run('browsers_computer_click_mouse', { id: 'b', x: 100, y: 50 });
    const sent = seen().map((r) => `${r.method} ${r.url} ${r.body.toString()}`);
    expect(sent).toEqual([
      'GET /browsers/b ',
      'POST /browsers/b/computer/click_mouse {"x":200,"y":100}',
      'POST /browsers/b/computer/click_mouse {"x":20,"y":10}',
      'POST /browsers/b/computer/get_mouse_position ',
      'PATCH /browsers/b {"viewport":{"width":1568,"height":882}}',
      'GET /browsers/b ',
      'POST /browsers/b/computer/click_mouse {"x":100,"y":50}',
    ]);
  });

  it('a screenshot comes back scaled and encoded as asked, with its sizes', async () => {
    const shot = await call('browsers_computer_capture_screenshot', { id: browser });
    expect(shot.isError).toBeFalsy();
    expect(shot.content[0]).toMatchObject({ type: 'image', mimeType: 'image/jpeg' });
    expect(shot.structuredContent).toMatchObject({ media_type: 'image/jpeg' });
    const png = await call('browsers_computer_capture_screenshot', { id: browser, format: 'png' });
    expect(png.structuredContent).toMatchObject({ media_type: 'image/png' });
    expect(png.structuredContent).toHaveProperty('original_width');
  });
});

describe('the tools', () => {
  it('a stream tool takes a cursor instead of Last-Event-ID and says it returns events', () => {
    const tool = operationTools.find((t) => t.name === 'browsers_telemetry_stream')!;
    const shape = Object.keys((tool.input() as unknown as { shape: Record<string, unknown> }).shape);
    expect(shape).not.toContain('last_event_id');
    expect(shape).toEqual(expect.arrayContaining(['id', 'after', 'max_events']));
    expect(tool.description.endsWith(' Returns events and the next cursor.')).toBe(true);
    expect(tool.description.startsWith(row('browsers_telemetry_stream').description)).toBe(true);
  });

  it('the screenshot tool takes its scaling arguments; coordinate tools say which pixels they use', () => {
    const shot = operationTools.find((t) => t.name === 'browsers_computer_capture_screenshot')!;
    const base = Object.keys(
      (row('browsers_computer_capture_screenshot').input() as unknown as { shape: object }).shape,
    );
    const shape = Object.keys((shot.input() as unknown as { shape: Record<string, unknown> }).shape);
    expect(shape.length).toBeGreaterThan(base.length);
    expect(shape).toEqual(expect.arrayContaining(base));
    const click = operationTools.find((t) => t.name === 'browsers_computer_click_mouse')!;
    expect(click.description.length).toBeGreaterThan(row('browsers_computer_click_mouse').description.length);
    expect(click.description).toContain('screenshot');
  });

  it('every other tool is its row: name, title, description, annotations, toolset, deprecation, view', () => {
    for (const t of operationTools) {
      const r = row(t.name);
      expect(t).toMatchObject({
        title: r.title,
        annotations: r.annotations,
        toolset: r.toolset,
        deprecated: r.deprecated,
      });
      expect(t.view).toBe(r.view);
      if (r.answer.kind !== 'stream' && r.operationId !== 'takeScreenshot' && !r.screen) {
        expect(t.description).toBe(r.description);
        expect(t.input).toBe(r.input);
      }
    }
  });
});
