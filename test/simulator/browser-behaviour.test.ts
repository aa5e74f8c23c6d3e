/** Behaviour of the browser-scoped areas: sessions, filesystem, processes, computer controls, pools. */
import { describe, expect, it } from 'vitest';
import { startSimulator } from '../../simulator/index.js';
import { writeZip } from '../../simulator/zip.js';
import { useSimulator } from '../helpers/fixtures.js';
import { inspectPng } from '../helpers/simulator-binary.js';
import { type Answer, caller, formData, type Json, readSse, request, waitFor } from '../helpers/simulator-client.js';

const sim = useSimulator({ eventIntervalMs: 5 });

const call = caller(sim);

async function newBrowser(body: Json = {}): Promise<string> {
  const a = await call('POST', '/browsers', { json: body });
  expect(a.status, a.text).toBe(200);
  return a.json.session_id;
}

function expectError(a: Answer, status: number, mentions: string): void {
  expect(a.status, a.text).toBe(status);
  expect(a.json.message).toContain(mentions);
}

async function exec(id: string, body: Json): Promise<{ exit: number; out: string; err: string }> {
  const a = await call('POST', `/browsers/${id}/process/exec`, { json: body });
  expect(a.status, a.text).toBe(200);
  return {
    exit: a.json.exit_code,
    out: Buffer.from(a.json.stdout_b64, 'base64').toString(),
    err: Buffer.from(a.json.stderr_b64, 'base64').toString(),
  };
}

describe('browser sessions', () => {
  it('soft-deletes: gone from get and list, visible with include_deleted / status filters', async () => {
    const keep = await newBrowser();
    const gone = await newBrowser();
    expect((await call('DELETE', `/browsers/${gone}`)).status).toBe(204);
    expectError(await call('GET', `/browsers/${gone}`), 404, gone);
    expectError(await call('POST', `/browsers/${gone}/computer/get_mouse_position`), 404, gone);
    expect(
      (await call('GET', `/browsers/${gone}`, { query: { include_deleted: true } })).json.deleted_at,
    ).toBeDefined();
    const ids = async (query: Json) =>
      (await call('GET', '/browsers', { query: { ...query, limit: 100 } })).json.map((b: Json) => b.session_id);
    expect(await ids({})).toContain(keep);
    expect(await ids({})).not.toContain(gone);
    expect(await ids({ status: 'deleted' })).toEqual(expect.arrayContaining([gone]));
    expect(await ids({ status: 'deleted' })).not.toContain(keep);
    expect(await ids({ status: 'all' })).toEqual(expect.arrayContaining([keep, gone]));
    expect(await ids({ include_deleted: true })).toEqual(expect.arrayContaining([keep, gone]));
    expect(await ids({ query: keep.slice(0, 10) })).toEqual([keep]);
  });

  it('refuses inconsistent or unknown references with 400', async () => {
    expectError(await call('POST', '/browsers', { json: { gpu: true, headless: true } }), 400, 'gpu');
    expectError(
      await call('POST', '/browsers', { json: { profile: { name: 'nope' } } }),
      400,
      "profile 'nope' not found",
    );
    expectError(await call('POST', '/browsers', { json: { proxy_id: 'nope' } }), 400, 'proxy_id');
    expectError(await call('POST', '/browsers', { json: { extensions: [{ id: 'nope' }] } }), 400, 'extensions[0]');
    expectError(
      await call('POST', '/browsers', { json: { chrome_policy: { ExtensionInstallForcelist: [] } } }),
      400,
      'chrome_policy.ExtensionInstallForcelist',
    );
  });

  it("enforces the default project's max_concurrent_sessions with 429 + Retry-After", async () => {
    const local = await startSimulator();
    try {
      const projects = await request(local.url, 'GET', '/org/projects');
      await request(local.url, 'PATCH', `/org/projects/${projects.json[0].id}/limits`, {
        json: { max_concurrent_sessions: 1 },
      });
      expect((await request(local.url, 'POST', '/browsers', { json: {} })).status).toBe(200);
      const refused = await request(local.url, 'POST', '/browsers', { json: {} });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    } finally {
      await local.close();
    }
  });

  it('refuses a resize during a recording unless forced', async () => {
    const id = await newBrowser();
    await call('POST', `/browsers/${id}/replays`, { json: {} });
    expectError(
      await call('PATCH', `/browsers/${id}`, { json: { viewport: { width: 800, height: 600 } } }),
      400,
      'force',
    );
    const forced = await call('PATCH', `/browsers/${id}`, {
      json: { viewport: { width: 800, height: 600, force: true } },
    });
    expect(forced.json.viewport).toEqual({ width: 800, height: 600, refresh_rate: 60 });
  });
});

describe('filesystem', () => {
  it('maps errors: 404 missing, 400 wrong kind, 403 read-only areas', async () => {
    const id = await newBrowser();
    const fs = `/browsers/${id}/fs`;
    expectError(await call('GET', `${fs}/read_file`, { query: { path: '/nope' } }), 404, '/nope');
    expectError(await call('GET', `${fs}/read_file`, { query: { path: '/tmp' } }), 400, 'is a directory');
    expectError(await call('GET', `${fs}/list_files`, { query: { path: '/etc/hostname' } }), 400, 'not a directory');
    expectError(await call('PUT', `${fs}/delete_file`, { json: { path: '/tmp' } }), 400, 'is a directory');
    expectError(await call('PUT', `${fs}/delete_directory`, { json: { path: '/nope' } }), 404, '/nope');
    expectError(
      await call('PUT', `${fs}/move`, { json: { src_path: '/tmp', dest_path: '/tmp/inner' } }),
      400,
      'into itself',
    );
    expectError(
      await call('PUT', `${fs}/write_file`, { query: { path: '/proc/x' }, body: Buffer.from('x') }),
      403,
      'permission denied',
    );
  });

  it('creates parents on write, applies modes, and refuses zip entries escaping the destination', async () => {
    const id = await newBrowser();
    const fs = `/browsers/${id}/fs`;
    await call('PUT', `${fs}/write_file`, {
      query: { path: '/tmp/a/b/c.sh', mode: '755' },
      body: Buffer.from('#!/bin/sh'),
    });
    expect((await call('GET', `${fs}/file_info`, { query: { path: '/tmp/a/b/c.sh' } })).json.mode).toBe('-rwxr-xr-x');
    expect((await call('GET', `${fs}/file_info`, { query: { path: '/tmp/a/b' } })).json).toMatchObject({
      is_dir: true,
      size_bytes: 0,
    });
    const evil = writeZip([{ name: '../../etc/evil', data: Buffer.from('x'), isDir: false }]);
    expectError(
      await call('POST', `${fs}/upload_zip`, {
        body: formData({ zip_file: { data: evil, filename: 'e.zip' }, dest_path: '/tmp/z' }),
      }),
      400,
      'outside',
    );
    expectError(
      await call('POST', `${fs}/upload_zip`, {
        body: formData({ zip_file: { data: Buffer.from('not a zip'), filename: 'e.zip' }, dest_path: '/tmp/z' }),
      }),
      400,
      'zip_file',
    );
  });

  it('watches: non-recursive sees direct children only, recursive sees descendants', async () => {
    const id = await newBrowser();
    const fs = `/browsers/${id}/fs`;
    await call('PUT', `${fs}/create_directory`, { json: { path: '/tmp/w/sub' } });
    const flat = (await call('POST', `${fs}/watch`, { json: { path: '/tmp/w' } })).json.watch_id;
    const deep = (await call('POST', `${fs}/watch`, { json: { path: '/tmp/w', recursive: true } })).json.watch_id;
    const events = (w: string) => readSse(sim.url, `${fs}/watch/${w}/events`);
    const [flatEvents, deepEvents] = [events(flat), events(deep)];
    await call('PUT', `${fs}/write_file`, { query: { path: '/tmp/w/sub/x' }, body: Buffer.from('1') });
    await call('PUT', `${fs}/write_file`, { query: { path: '/tmp/w/y' }, body: Buffer.from('2') });
    await call('DELETE', `${fs}/watch/${flat}`);
    await call('DELETE', `${fs}/watch/${deep}`);
    const lines = async (r: ReturnType<typeof events>) => (await r).frames.map((f) => `${f.json.type} ${f.json.path}`);
    expect(await lines(flatEvents)).toEqual(['CREATE /tmp/w/y', 'WRITE /tmp/w/y']);
    expect(await lines(deepEvents)).toEqual([
      'CREATE /tmp/w/sub/x',
      'WRITE /tmp/w/sub/x',
      'CREATE /tmp/w/y',
      'WRITE /tmp/w/y',
    ]);
    expectError(await call('GET', `${fs}/watch/${flat}/events`), 404, flat);
  });
});

describe('processes', () => {
  it('runs a small shell: pipes, redirects, && / ||, env, cwd, users, exit codes', async () => {
    const id = await newBrowser();
    expect(await exec(id, { command: 'echo $GREETING from $(pwd)', env: { GREETING: 'hi' } })).toMatchObject({
      exit: 0,
    });
    expect((await exec(id, { command: 'echo "$GREETING" world', env: { GREETING: 'hi' } })).out).toBe('hi world\n');
    expect((await exec(id, { command: 'pwd', cwd: '/tmp' })).out).toBe('/tmp\n');
    expect((await exec(id, { command: 'whoami', as_root: true })).out).toBe('root\n');
    expect((await exec(id, { command: 'whoami' })).out).toBe('kernel\n');
    expect((await exec(id, { command: 'echo a > /tmp/f; echo b >> /tmp/f; cat /tmp/f | wc -l' })).out).toBe('2\n');
    expect((await exec(id, { command: 'false || echo fallback && echo chained' })).out).toBe('fallback\nchained\n');
    expect(await exec(id, { command: 'cat /missing' })).toEqual({
      exit: 1,
      out: '',
      err: 'cat: /missing: No such file or directory\n',
    });
    expect((await exec(id, { command: 'exit 7' })).exit).toBe(7);
    expect((await exec(id, { command: 'ls', args: ['/var/log/supervisord'] })).out).toBe(
      'chromium\nkernel-images-api\nneko\n',
    );
    expect((await exec(id, { command: 'sh', args: ['-c', 'echo nested; exit 2'] })).exit).toBe(2);
    expect((await exec(id, { command: 'seq 3 | head -n 2' })).out).toBe('1\n2\n');
    expect((await exec(id, { command: 'echo unterminated "quote' })).exit).toBe(2);
    expectError(
      await call('POST', `/browsers/${id}/process/exec`, { json: { command: 'ls', cwd: '/nope' } }),
      400,
      'cwd',
    );
  });

  it('kills exec commands that run past timeout_sec', async () => {
    const id = await newBrowser();
    const r = await exec(id, { command: 'sleep 30', timeout_sec: 1 });
    expect(r.exit).toBe(124);
    expect(r.err).toContain('timed out');
  });

  it('spawned cat echoes stdin; signals map to 128+n; exited processes refuse stdin, kill and resize', async () => {
    const id = await newBrowser();
    const spawned = await call('POST', `/browsers/${id}/process/spawn`, { json: { command: 'cat' } });
    const p = `/browsers/${id}/process/${spawned.json.process_id}`;
    expect(spawned.json.pid).toBeGreaterThan(0);
    expectError(await call('POST', `${p}/resize`, { json: { rows: 10, cols: 10 } }), 400, 'no PTY');
    expectError(await call('POST', `${p}/stdin`, { json: { data_b64: '***' } }), 400, 'base64');
    await call('POST', `${p}/stdin`, { json: { data_b64: Buffer.from('ping').toString('base64') } });
    const out = await readSse(sim.url, `${p}/stdout/stream`, { until: (f) => f.length >= 1 });
    expect(out.frames[0]?.json).toEqual({ stream: 'stdout', data_b64: Buffer.from('ping').toString('base64') });
    await call('POST', `${p}/kill`, { json: { signal: 'INT' } });
    expect((await call('GET', `${p}/status`)).json).toEqual({
      state: 'exited',
      exit_code: 130,
      cpu_pct: 0,
      mem_bytes: 0,
    });
    expectError(await call('POST', `${p}/kill`, { json: { signal: 'KILL' } }), 400, 'already exited');
    expectError(await call('POST', `${p}/stdin`, { json: { data_b64: 'AA==' } }), 400, 'already exited');
    expectError(
      await call('GET', `/browsers/${id}/process/123e4567-e89b-42d3-a456-426614174000/status`),
      404,
      'process',
    );
  });

  it('an interactive shell reads commands from stdin and exits with their status', async () => {
    const id = await newBrowser();
    const spawned = await call('POST', `/browsers/${id}/process/spawn`, { json: { command: 'sh' } });
    const p = `/browsers/${id}/process/${spawned.json.process_id}`;
    await call('POST', `${p}/stdin`, { json: { data_b64: Buffer.from('cd /etc\npwd\nexit 4\n').toString('base64') } });
    const r = await readSse(sim.url, `${p}/stdout/stream`);
    const text = r.frames
      .filter((f) => f.json.data_b64)
      .map((f) => Buffer.from(f.json.data_b64, 'base64').toString())
      .join('');
    expect(text).toBe('/etc\n');
    expect(r.frames.at(-1)?.json).toEqual({ event: 'exit', exit_code: 4 });
  });
});

describe('computer controls', () => {
  it('checks coordinates against the viewport and stops a batch at the first failing action', async () => {
    const id = await newBrowser({ viewport: { width: 800, height: 600 } });
    const c = `/browsers/${id}/computer`;
    expectError(await call('POST', `${c}/click_mouse`, { json: { x: 800, y: 10 } }), 400, 'x (800)');
    expectError(await call('POST', `${c}/press_key`, { json: { keys: ['Ctrl+'] } }), 400, 'keys[0]');
    const batch = await call('POST', `${c}/batch`, {
      json: {
        actions: [
          { type: 'move_mouse', move_mouse: { x: 5, y: 6 } },
          { type: 'click_mouse', click_mouse: { x: 5, y: 9999 } },
          { type: 'move_mouse', move_mouse: { x: 7, y: 8 } },
        ],
      },
    });
    expectError(batch, 400, 'actions[1].click_mouse.y');
    expect((await call('POST', `${c}/get_mouse_position`)).json).toEqual({ x: 5, y: 6 });
    expectError(
      await call('POST', `${c}/batch`, { json: { actions: [{ type: 'click_mouse', move_mouse: { x: 1, y: 1 } }] } }),
      400,
      'actions[0].click_mouse is required',
    );
    expectError(
      await call('POST', `${c}/screenshot`, { json: { region: { x: 700, y: 0, width: 200, height: 10 } } }),
      400,
      'region',
    );
  });

  it('screenshots draw the cursor unless hidden, and change with the page', async () => {
    const id = await newBrowser({ viewport: { width: 640, height: 480 } });
    const c = `/browsers/${id}/computer`;
    await call('POST', `${c}/move_mouse`, { json: { x: 320, y: 300 } });
    const shot = async () => inspectPng((await call('POST', `${c}/screenshot`)).bytes);
    const visible = await shot();
    expect([visible.width, visible.height]).toEqual([640, 480]);
    expect(visible.pixel(320, 300)).toEqual([20, 20, 20]);
    await call('POST', `${c}/cursor`, { json: { hidden: true } });
    const hidden = await shot();
    expect(hidden.pixel(320, 300)).not.toEqual([20, 20, 20]);
    await call('POST', `/browsers/${id}/playwright/execute`, {
      json: { code: "await page.goto('https://kernel.sh')" },
    });
    expect((await shot()).pixel(5, 470)).not.toEqual(hidden.pixel(5, 470));
  });
});

describe('browser pools', () => {
  it('an acquire long-polls until a lease is released, and reuse keeps the session', async () => {
    await call('POST', '/browser_pools', { json: { name: 'poll', size: 1 } });
    const first = await call('POST', '/browser_pools/poll/acquire', { json: {} });
    const acquires = () => sim.requests.filter((r) => r.path === '/browser_pools/poll/acquire').length;
    const waiting = call('POST', '/browser_pools/poll/acquire', { json: { acquire_timeout_seconds: 10 } });
    // The release comes once the second acquire has arrived (and waits), so it hands over the released lease.
    await waitFor(() => acquires() === 2);
    await call('POST', '/browser_pools/poll/release', { json: { session_id: first.json.session_id } });
    const second = await waiting;
    expect(second.status).toBe(200);
    expect(second.json.session_id).toBe(first.json.session_id);
    expect((await call('GET', '/browser_pools/poll')).json).toMatchObject({ acquired_count: 1, available_count: 0 });
  });

  it('release without reuse ends the session; delete refuses leased browsers unless forced', async () => {
    await call('POST', '/browser_pools', { json: { name: 'strict', size: 2 } });
    const a = (await call('POST', '/browser_pools/strict/acquire', { json: {} })).json.session_id;
    await call('POST', '/browser_pools/strict/release', { json: { session_id: a, reuse: false } });
    expectError(await call('GET', `/browsers/${a}`), 404, a);
    expectError(await call('POST', '/browser_pools/strict/release', { json: { session_id: a } }), 400, 'not leased');
    const b = (await call('POST', '/browser_pools/strict/acquire', { json: {} })).json.session_id;
    expect(b).not.toBe(a);
    expectError(await call('DELETE', '/browser_pools/strict'), 400, 'force');
    expect((await call('DELETE', '/browser_pools/strict', { json: { force: true } })).status).toBe(204);
    expectError(await call('GET', `/browsers/${b}`), 404, b);
    expectError(await call('POST', '/browser_pools', { json: { name: 'poll', size: 1 } }), 409, 'poll');
  });
});
