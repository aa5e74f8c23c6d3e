/**
 * Conformance tour: calls every operation of spec/kernel-openapi.yml against a started simulator, feeding ids
 * from one call into the next, and validates every answer (status, media type, body schema, declared headers,
 * binary formats) against the spec. Ends by asserting that all operationIds were exercised.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../simulator/index.js';
import { writeZip } from '../../simulator/zip.js';
import { inspectPng, unzip } from '../helpers/simulator-binary.js';
import { formData, type Json, waitFor } from '../helpers/simulator-client.js';
import { specOperations } from '../helpers/simulator-spec.js';
import { Tour } from '../helpers/simulator-tour.js';

let sim: Simulator;
let tour: Tour;

beforeAll(async () => {
  sim = await startSimulator({ eventIntervalMs: 10, keepaliveMs: 200 });
  tour = new Tour(sim.url);
});
afterAll(async () => {
  await sim.close();
});

// Ids produced along the way.
const ids: Record<string, string> = {};
let extensionZip: Buffer;
const file = (data: Buffer, filename: string, type?: string) => ({ data, filename, type });

describe('conformance tour', () => {
  it('organisation: projects, limits, API keys', async () => {
    const list = await tour.call('getOrgProjects');
    expect(list.json.map((p: Json) => p.name)).toContain('default');
    ids['project'] = (await tour.call('postOrgProjects', { json: { name: 'staging' }, expect: 201 })).json.id;
    await tour.call('postOrgProjects', { json: { name: 'staging' }, expect: 409 });
    expect((await tour.call('getOrgProjectsId', { params: { id: ids['project'] ?? '' } })).json.name).toBe('staging');
    await tour.call('patchOrgProjectsId', { params: { id: ids['project'] ?? '' }, json: { name: 'staging-2' } });
    expect((await tour.call('getOrgProjectLimits', { params: { id: ids['project'] ?? '' } })).json).toEqual({});
    const limits = await tour.call('patchOrgProjectLimits', {
      params: { id: ids['project'] ?? '' },
      json: { max_concurrent_sessions: 50 },
    });
    expect(limits.json).toEqual({ max_concurrent_sessions: 50 });

    await tour.call('getProjects', { query: { limit: 1 } });
    ids['legacyProject'] = (await tour.call('postProjects', { json: { name: 'legacy' }, expect: 201 })).json.id;
    await tour.call('getProjectsId', { params: { id: ids['legacyProject'] ?? '' } });
    const archived = await tour.call('patchProjectsId', {
      params: { id: ids['legacyProject'] ?? '' },
      json: { status: 'archived' },
    });
    expect(archived.json.status).toBe('archived');
    await tour.call('getProjectLimits', { params: { id: ids['legacyProject'] ?? '' } });
    await tour.call('patchProjectLimits', {
      params: { id: ids['legacyProject'] ?? '' },
      json: { max_pooled_sessions: 10 },
    });

    const key = await tour.call('postApiKeys', {
      json: { name: 'ci', days_to_expire: 30, project_id: ids['project'] },
      expect: 201,
    });
    ids['apiKey'] = key.json.id;
    expect(key.json.key).toMatch(/^sk_/);
    expect(key.json.project_name).toBe('staging-2');
    await tour.call('postApiKeys', { json: { name: 'org-wide' }, expect: 201 });
    const keys = await tour.call('listApiKeys', { query: { limit: 1 } });
    expect(keys.headers.get('x-has-more')).toBe('true');
    expect(keys.headers.get('x-next-offset')).toBe('1');
    expect(keys.json[0].key).toBeUndefined();
    await tour.call('getApiKeysById', { params: { id: ids['apiKey'] ?? '' } });
    await tour.call('patchApiKeysById', { params: { id: ids['apiKey'] ?? '' }, json: { name: 'ci-2' } });
    // The project is not empty while a key is scoped to it.
    await tour.call('deleteOrgProjectsId', { params: { id: ids['project'] ?? '' }, expect: 409 });
    await tour.call('deleteApiKeysById', { params: { id: ids['apiKey'] ?? '' }, expect: 204 });
    await tour.call('deleteOrgProjectsId', { params: { id: ids['project'] ?? '' }, expect: 204 });
    await tour.call('deleteProjectsId', { params: { id: ids['legacyProject'] ?? '' }, expect: 204 });
    await tour.call('getOrgProjectsId', { params: { id: ids['project'] ?? '' }, expect: 404 });
  });

  it('profiles, proxies, extensions', async () => {
    ids['profile'] = (await tour.call('postProfiles', { json: { name: 'tour-profile' }, expect: 201 })).json.id;
    await tour.call('postProfiles', { json: { name: 'tour-profile' }, expect: 409 });
    const profiles = await tour.call('getProfiles', { query: { query: 'tour' } });
    expect(profiles.json).toHaveLength(1);
    expect(profiles.headers.get('x-limit')).toBe('20');
    await tour.call('getProfileByIdOrName', { params: { id_or_name: 'tour-profile' } });
    // No state captured yet.
    await tour.call('downloadProfileByIdOrName', { params: { id_or_name: 'tour-profile' }, expect: 202 });

    const proxy = await tour.call('postProxies', {
      json: { name: 'dc', type: 'datacenter', config: { country: 'US' } },
      expect: 201,
    });
    ids['proxy'] = proxy.json.id;
    const custom = await tour.call('postProxies', {
      json: { type: 'custom', config: { host: 'proxy.example.com', port: 8080, username: 'u', password: 'p' } },
      expect: 201,
    });
    expect(custom.json.config).toEqual({ host: 'proxy.example.com', port: 8080, username: 'u', has_password: true });
    expect((await tour.call('getProxies')).json).toHaveLength(2);
    await tour.call('getProxiesById', { params: { id: ids['proxy'] ?? '' } });
    const checked = await tour.call('postProxiesByIdCheck', { params: { id: ids['proxy'] ?? '' }, json: {} });
    expect(checked.json.status).toBe('available');

    const store = await tour.call('getExtensionsFromChromeStore', {
      query: { url: 'https://chromewebstore.google.com/detail/some-ext/abcdefghijklmnopabcdefghijklmnop', os: 'linux' },
    });
    extensionZip = store.bytes;
    expect([...unzip(extensionZip).keys()]).toContain('manifest.json');
    const ext = await tour.call('postExtensions', {
      body: formData({ file: file(extensionZip, 'ext.zip', 'application/zip'), name: 'tour-ext' }),
      expect: 201,
    });
    ids['extension'] = ext.json.id;
    expect(ext.json.size_bytes).toBe(extensionZip.length);
    expect((await tour.call('getExtensions')).json).toHaveLength(1);
    const download = await tour.call('getExtensionByIdOrName', { params: { id_or_name: 'tour-ext' } });
    expect(download.bytes.equals(extensionZip)).toBe(true);
  });

  it('browsers: create, list with paging, get, update', async () => {
    const created = await tour.call('postBrowsers', {
      json: {
        stealth: true,
        headless: false,
        timeout_seconds: 300,
        viewport: { width: 1024, height: 768 },
        profile: { name: 'tour-profile', save_changes: true },
        proxy_id: ids['proxy'],
        extensions: [{ name: 'tour-ext' }],
        telemetry: {},
        start_url: 'https://example.com',
        kiosk_mode: false,
        chrome_policy: { HomepageLocation: 'https://example.com' },
      },
    });
    const b = created.json;
    ids['browser'] = b.session_id;
    expect(b).toMatchObject({
      stealth: true,
      headless: false,
      timeout_seconds: 300,
      viewport: { width: 1024, height: 768, refresh_rate: 60 },
      proxy_id: ids['proxy'],
      start_url: 'https://example.com',
      profile: { id: ids['profile'], name: 'tour-profile' },
    });
    expect(b.cdp_ws_url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\//);
    expect(b.browser_live_view_url).toMatch(/^http:\/\//);
    const headless = (await tour.call('postBrowsers', { json: { headless: true } })).json;
    ids['headless'] = headless.session_id;
    expect(headless.browser_live_view_url).toBeUndefined();
    expect(headless.viewport).toEqual({ width: 1920, height: 1080, refresh_rate: 25 });

    const page1 = await tour.call('getBrowsers', { query: { limit: 1 } });
    expect(page1.json).toHaveLength(1);
    expect(page1.headers.get('x-has-more')).toBe('true');
    const page2 = await tour.call('getBrowsers', {
      query: { limit: 1, offset: Number(page1.headers.get('x-next-offset')) },
    });
    expect(page2.headers.get('x-has-more')).toBe('false');
    expect(page2.json[0].session_id).not.toBe(page1.json[0].session_id);
    await tour.call('getBrowsersById', { params: { id: ids['browser'] ?? '' } });
    const updated = await tour.call('patchBrowsersById', {
      params: { id: ids['browser'] ?? '' },
      json: { viewport: { width: 1280, height: 800 } },
    });
    expect(updated.json.viewport).toEqual({ width: 1280, height: 800, refresh_rate: 60 });
  });

  it('computer controls and a real PNG screenshot of the viewport', async () => {
    const params = { id: ids['browser'] ?? '' };
    await tour.call('moveMouse', { params, json: { x: 200, y: 150 } });
    expect((await tour.call('getMousePosition', { params })).json).toEqual({ x: 200, y: 150 });
    await tour.call('clickMouse', { params, json: { x: 300, y: 200, button: 'left', num_clicks: 2 } });
    await tour.call('typeText', { params, json: { text: 'hello' } });
    await tour.call('pressKey', { params, json: { keys: ['Return', 'Ctrl+a'] } });
    await tour.call('scroll', { params, json: { x: 300, y: 200, delta_y: 3 } });
    await tour.call('dragMouse', {
      params,
      json: {
        path: [
          [10, 10],
          [50, 60],
          [400, 300],
        ],
      },
    });
    expect((await tour.call('getMousePosition', { params })).json).toEqual({ x: 400, y: 300 });
    const cursor = await tour.call('setCursor', { params, json: { hidden: false } });
    expect(cursor.json).toEqual({ ok: true });
    await tour.call('batchComputerAction', {
      params,
      json: {
        actions: [
          { type: 'move_mouse', move_mouse: { x: 640, y: 400 } },
          { type: 'sleep', sleep: { duration_ms: 1 } },
          { type: 'click_mouse', click_mouse: { x: 640, y: 400 } },
        ],
      },
    });
    await tour.call('writeClipboard', { params, json: { text: 'copied' } });
    expect((await tour.call('readClipboard', { params })).json).toEqual({ text: 'copied' });

    const shot = await tour.call('takeScreenshot', { params });
    const png = inspectPng(shot.bytes);
    expect([png.width, png.height]).toEqual([1280, 800]);
    const region = await tour.call('takeScreenshot', {
      params,
      json: { region: { x: 600, y: 380, width: 100, height: 50 } },
    });
    const cropped = inspectPng(region.bytes);
    expect([cropped.width, cropped.height]).toEqual([100, 50]);
    // The cursor is drawn at the mouse position (640, 400) = (40, 20) in the region.
    expect(cropped.pixel(40, 20)).toEqual([20, 20, 20]);
  });

  it('filesystem, watch events, uploads and zips', async () => {
    const params = { id: ids['browser'] ?? '' };
    await tour.call('createDirectory', { params, json: { path: '/tmp/tour', mode: '755' }, expect: 201 });
    const watch = await tour.call('startFsWatch', {
      params,
      json: { path: '/tmp/tour', recursive: true },
      expect: 201,
    });
    ids['watch'] = watch.json.watch_id;
    await tour.call('writeFile', {
      params,
      query: { path: '/tmp/tour/a.txt', mode: '600' },
      body: Buffer.from('hello file'),
      headers: { 'content-type': 'application/octet-stream' },
      expect: 201,
    });
    const read = await tour.call('readFile', { params, query: { path: '/tmp/tour/a.txt' } });
    expect(read.text).toBe('hello file');
    const info = await tour.call('fileInfo', { params, query: { path: '/tmp/tour/a.txt' } });
    expect(info.json).toMatchObject({ name: 'a.txt', size_bytes: 10, is_dir: false, mode: '-rw-------' });
    await tour.call('setFilePermissions', { params, json: { path: '/tmp/tour/a.txt', mode: '644', owner: 'kernel' } });
    await tour.call('movePath', { params, json: { src_path: '/tmp/tour/a.txt', dest_path: '/tmp/tour/b.txt' } });
    const upload = new FormData();
    upload.append('files[0][file]', new Blob(['one']), 'one.txt');
    upload.append('files[0][dest_path]', '/tmp/tour/up/one.txt');
    upload.append('files[1][file]', new Blob(['two']), 'two.txt');
    upload.append('files[1][dest_path]', '/tmp/tour/up/two.txt');
    await tour.call('uploadFiles', { params, body: upload, expect: 201 });
    const zip = writeZip([
      { name: 'nested/', data: Buffer.alloc(0), isDir: true },
      { name: 'nested/c.txt', data: Buffer.from('c'.repeat(500)), isDir: false },
    ]);
    await tour.call('uploadZip', {
      params,
      body: formData({ zip_file: file(zip, 'x.zip', 'application/zip'), dest_path: '/tmp/tour/unzipped' }),
      expect: 201,
    });
    const listing = await tour.call('listFiles', { params, query: { path: '/tmp/tour' } });
    expect(listing.json.map((f: Json) => f.name)).toEqual(['b.txt', 'unzipped', 'up']);
    const dirZip = await tour.call('downloadDirZip', { params, query: { path: '/tmp/tour' } });
    const files = unzip(dirZip.bytes);
    expect(files.get('b.txt')?.toString()).toBe('hello file');
    expect(files.get('up/two.txt')?.toString()).toBe('two');
    expect(files.get('unzipped/nested/c.txt')?.toString()).toBe('c'.repeat(500));
    await tour.call('deleteFile', { params, json: { path: '/tmp/tour/b.txt' } });

    // The watch saw all of it; stopping the watch ends its stream.
    const events = await tour.stream('streamFsEvents', {
      params: { ...params, watch_id: ids['watch'] ?? '' },
      until: (frames) => frames.some((f) => f.json.type === 'DELETE' && f.json.path === '/tmp/tour/b.txt'),
    });
    expect(events.frames.map((f) => `${f.json.type} ${f.json.path}`)).toEqual(
      expect.arrayContaining([
        'CREATE /tmp/tour/a.txt',
        'WRITE /tmp/tour/a.txt',
        'RENAME /tmp/tour/a.txt',
        'CREATE /tmp/tour/b.txt',
      ]),
    );
    const following = tour.stream('streamFsEvents', { params: { ...params, watch_id: ids['watch'] ?? '' } });
    await tour.call('stopFsWatch', { params: { ...params, watch_id: ids['watch'] ?? '' }, expect: 204 });
    expect((await following).end).toBe('closed');
    await tour.call('deleteDirectory', { params, json: { path: '/tmp/tour' } });
    await tour.call('fileInfo', { params, query: { path: '/tmp/tour' }, expect: 404 });
  });

  it('processes: exec, spawn with a PTY, stdin, resize, stream, kill', async () => {
    const params = { id: ids['browser'] ?? '' };
    const exec = await tour.call('processExec', { params, json: { command: 'echo', args: ['hello', 'world'] } });
    expect(Buffer.from(exec.json.stdout_b64, 'base64').toString()).toBe('hello world\n');
    expect(exec.json.exit_code).toBe(0);
    const missing = await tour.call('processExec', { params, json: { command: 'definitely-not-a-command' } });
    expect(missing.json.exit_code).toBe(127);

    const spawned = await tour.call('processSpawn', {
      params,
      json: { command: 'bash', allocate_tty: true, rows: 24, cols: 80 },
    });
    const proc = { ...params, process_id: spawned.json.process_id };
    expect((await tour.call('processStatus', { params: proc })).json.state).toBe('running');
    const written = await tour.call('processStdin', {
      params: proc,
      json: { data_b64: Buffer.from('echo from-stdin\n').toString('base64') },
    });
    expect(written.json.written_bytes).toBe(16);
    expect((await tour.call('processResize', { params: proc, json: { rows: 40, cols: 120 } })).json).toEqual({
      ok: true,
    });
    const output = await tour.stream('processStdoutStream', {
      params: proc,
      until: (frames) =>
        frames.some(
          (f) => f.json.data_b64 && Buffer.from(f.json.data_b64, 'base64').toString().includes('from-stdin\r\n'),
        ),
    });
    expect(output.end).toBe('stopped');
    const ending = tour.stream('processStdoutStream', { params: proc });
    expect((await tour.call('processKill', { params: proc, json: { signal: 'TERM' } })).json).toEqual({ ok: true });
    const ended = await ending;
    expect(ended.end).toBe('closed');
    expect(ended.frames.at(-1)?.json).toEqual({ event: 'exit', exit_code: 143 });
    const status = await tour.call('processStatus', { params: proc });
    expect(status.json).toMatchObject({ state: 'exited', exit_code: 143 });
  });

  it('playwright, curl, logs, telemetry, extensions on a running browser', async () => {
    const params = { id: ids['browser'] ?? '' };
    const pw = await tour.call('executePlaywrightCode', {
      params,
      json: { code: "await page.goto('https://example.org'); console.log('navigated'); return await page.title();" },
    });
    expect(pw.json).toEqual({ success: true, result: 'Example Domain', stdout: 'navigated\n', stderr: '' });
    const curl = await tour.call('browserCurl', { params, json: { url: 'https://example.com/status/404' } });
    expect(curl.json.status).toBe(404);
    await tour.call('browserCurl', { params, json: { url: 'https://nowhere.invalid/' }, expect: 502 });

    const logs = await tour.stream('logsStream', {
      params,
      query: { source: 'supervisor', supervisor_process: 'chromium', follow: false },
    });
    expect(logs.end).toBe('closed');
    expect(logs.frames.length).toBeGreaterThan(0);

    const telemetry = await tour.stream('streamBrowserTelemetry', { params, until: (f) => f.length >= 5 });
    expect(telemetry.frames[0]?.json).toMatchObject({ seq: 1, event: { type: 'page_navigation' } });
    expect(telemetry.frames.map((f) => f.json.seq)).toEqual([1, 2, 3, 4, 5]);

    const ext = new FormData();
    ext.append('extensions[0][zip_file]', new Blob([new Uint8Array(extensionZip)]), 'ext.zip');
    ext.append('extensions[0][name]', 'adhoc');
    await tour.call('uploadExtensionsToBrowser', { params, body: ext, expect: 201 });
    const installed = await tour.call('listFiles', { params, query: { path: '/home/kernel/extensions/adhoc' } });
    expect(installed.json.map((f: Json) => f.name)).toContain('manifest.json');
  });

  it('replays: start, list, stop, 202 while processing, then MP4', async () => {
    const params = { id: ids['browser'] ?? '' };
    const started = await tour.call('startBrowserReplayRecording', { params, json: { framerate: 10 }, expect: 201 });
    const replay = { ...params, replay_id: started.json.replay_id };
    await tour.call('startBrowserReplayRecording', { params, json: {}, expect: 409 });
    expect((await tour.call('listBrowsersReplays', { params })).json).toHaveLength(1);
    await tour.call('getBrowsersReplaysById', { params: replay, expect: 202 });
    await tour.call('stopBrowserReplayRecording', { params: replay, expect: 200 });
    const video = await waitFor(async () => {
      const a = await tour.call('getBrowsersReplaysById', { params: replay, expect: undefined });
      return a.status === 200 ? a : undefined;
    });
    expect(video.mediaType).toBe('video/mp4');
  });

  it('browser pools: capacity, acquire/204, release, flush, delete', async () => {
    const pool = await tour.call('postBrowserPools', {
      json: { name: 'tour-pool', size: 1, headless: true },
      expect: 201,
    });
    expect(pool.json).toMatchObject({
      available_count: 1,
      acquired_count: 0,
      browser_pool_config: { size: 1, fill_rate_per_minute: 10, timeout_seconds: 600 },
    });
    await tour.call('getBrowserPools');
    await tour.call('getBrowserPoolsByIdOrName', { params: { id_or_name: 'tour-pool' } });
    await tour.call('updateBrowserPoolsByIdOrName', {
      params: { id_or_name: 'tour-pool' },
      json: { size: 1, headless: true, discard_all_idle: true },
    });
    const acquired = await tour.call('acquireFromBrowserPoolByIdOrName', {
      params: { id_or_name: 'tour-pool' },
      json: {},
    });
    expect(acquired.json.pool).toEqual({ id: pool.json.id, name: 'tour-pool' });
    expect(acquired.json.timeout_seconds).toBe(600);
    await tour.call('acquireFromBrowserPoolByIdOrName', { params: { id_or_name: 'tour-pool' }, json: {}, expect: 204 });
    await tour.call('releaseToBrowserPoolByIdOrName', {
      params: { id_or_name: 'tour-pool' },
      json: { session_id: acquired.json.session_id, reuse: true },
      expect: 204,
    });
    await tour.call('flushBrowserPoolByIdOrName', { params: { id_or_name: 'tour-pool' }, expect: 204 });
    await tour.call('deleteBrowserPoolsByIdOrName', { params: { id_or_name: 'tour-pool' }, expect: 204 });
  });

  it('deployments, apps and invocations with their event streams', async () => {
    const source =
      "import { Kernel } from '@onkernel/sdk';\nconst kernel = new Kernel();\nconst app = kernel.app('tour-app');\napp.action('analyze', async () => ({ ok: true }));\n";
    const zip = writeZip([{ name: 'src/index.ts', data: Buffer.from(source), isDir: false }]);
    const deployed = await tour.call('postDeployments', {
      body: formData({
        file: file(zip, 'app.zip', 'application/zip'),
        entrypoint_rel_path: 'src/index.ts',
        version: '1.0.0',
        env_vars: JSON.stringify({ FOO: 'bar' }),
      }),
      expect: 201,
    });
    ids['deployment'] = deployed.json.id;
    const events = await tour.stream('getDeploymentsEventsById', { params: { id: ids['deployment'] ?? '' } });
    expect(events.end).toBe('closed');
    const states = events.frames
      .filter((f) => f.json.event === 'deployment_state')
      .map((f) => f.json.deployment.status);
    expect(states).toEqual(['queued', 'in_progress', 'running']);
    expect(events.frames.at(-1)?.json).toMatchObject({
      event: 'app_version_summary',
      app_name: 'tour-app',
      actions: [{ name: 'analyze' }],
    });
    await tour.call('getDeploymentsById', { params: { id: ids['deployment'] ?? '' } });
    await tour.call('getDeployments', { query: { app_name: 'tour-app' } });
    const apps = await tour.call('getApps', { query: { app_name: 'tour-app' } });
    expect(apps.json[0]).toMatchObject({ app_name: 'tour-app', version: '1.0.0', env_vars: { FOO: 'bar' } });

    const sync = await tour.call('postInvocations', {
      json: { app_name: 'tour-app', version: '1.0.0', action_name: 'analyze', payload: '{"x":1}' },
      expect: 200,
    });
    expect(sync.json.status).toBe('succeeded');
    const held = await tour.call('postInvocations', {
      json: { app_name: 'tour-app', version: '1.0.0', action_name: 'analyze', payload: '{"hold":true}', async: true },
      expect: 202,
    });
    ids['invocation'] = held.json.id;
    expect(held.json.status).toBe('queued');
    await tour.call('getInvocations', { query: { app_name: 'tour-app', limit: 1 } });
    await tour.call('getInvocationsById', { params: { id: ids['invocation'] ?? '' } });
    const browser = await tour.call('postBrowsers', { json: { invocation_id: ids['invocation'], headless: true } });
    const listed = await tour.call('getInvocationsBrowsersById', { params: { id: ids['invocation'] ?? '' } });
    expect(listed.json.browsers.map((b: Json) => b.session_id)).toEqual([browser.json.session_id]);
    await tour.call('deleteInvocationsBrowsersById', { params: { id: ids['invocation'] ?? '' }, expect: 204 });

    const stream = tour.stream('getInvocationsEventsById', {
      params: { id: ids['invocation'] ?? '' },
      onFrame: async (frame) => {
        if (frame.json.event === 'invocation_state' && frame.json.invocation.status === 'running') {
          await tour.call('patchInvocationsById', {
            params: { id: ids['invocation'] ?? '' },
            json: { status: 'succeeded', output: '{"done":true}' },
          });
        }
      },
    });
    const inv = await stream;
    expect(inv.end).toBe('closed');
    expect(inv.frames.at(-1)?.json.invocation).toMatchObject({ status: 'succeeded', output: '{"done":true}' });
    await tour.call('deleteDeploymentsById', { params: { id: ids['deployment'] ?? '' }, expect: 204 });
  });

  it('credentials and credential providers', async () => {
    const cred = await tour.call('postCredentials', {
      json: {
        name: 'tour-cred',
        domain: 'example.com',
        values: { username: 'me', password: 'pw' },
        totp_secret: 'JBSWY3DPEHPK3PXP',
      },
      expect: 201,
    });
    expect(cred.json).toMatchObject({ has_values: true, has_totp_secret: true });
    expect(cred.json.totp_code).toMatch(/^\d{6}$/);
    expect(cred.json.values).toBeUndefined();
    await tour.call('getCredentials', { query: { domain: 'example.com' } });
    await tour.call('getCredentialByIdOrName', { params: { id_or_name: 'tour-cred' } });
    await tour.call('patchCredentialByIdOrName', {
      params: { id_or_name: 'tour-cred' },
      json: { values: { password: 'pw2' } },
    });
    const code = await tour.call('getCredentialTotpCodeByIdOrName', { params: { id_or_name: 'tour-cred' } });
    expect(code.json.code).toMatch(/^\d{6}$/);

    const provider = await tour.call('postCredentialProviders', {
      json: { provider_type: 'onepassword', name: 'my-1p', token: 'ops_test_token' },
      expect: 201,
    });
    const params = { id: provider.json.id };
    await tour.call('getCredentialProviders');
    await tour.call('getCredentialProvidersById', { params });
    await tour.call('patchCredentialProvidersById', { params, json: { priority: 5 } });
    expect((await tour.call('testCredentialProviderById', { params })).json.success).toBe(true);
    const items = await tour.call('getCredentialProviderItems', { params });
    expect(items.json.items.length).toBeGreaterThan(0);
    await tour.call('deleteCredentialProvidersById', { params, expect: 204 });
  });

  it('auth connections: login flow, exchange, submit, events until success', async () => {
    const created = await tour.call('postAuthConnections', {
      json: { domain: 'netflix.com', profile_name: 'tour-auth', save_credentials: true },
      expect: 201,
    });
    const params = { id: created.json.id };
    const dup = await tour.call('postAuthConnections', {
      json: { domain: 'netflix.com', profile_name: 'tour-auth' },
      expect: 409,
    });
    expect(dup.json.existing_id).toBe(created.json.id);
    await tour.call('getAuthConnections', { query: { domain: 'netflix.com' } });
    await tour.call('getAuthConnectionsById', { params });
    await tour.call('patchAuthConnectionsById', { params, json: { health_check_interval: 1200 } });
    const login = await tour.call('postAuthConnectionsLogin', { params, json: {} });
    await tour.call('postAuthConnectionsLogin', { params, json: {}, expect: 409 });
    const exchanged = await tour.call('postAuthConnectionsExchange', {
      params,
      json: { code: login.json.handoff_code },
      token: null,
    });
    expect(exchanged.json.jwt.split('.')).toHaveLength(3);
    await tour.call('postAuthConnectionsExchange', { params, json: { code: login.json.handoff_code }, expect: 410 });

    const events = await tour.stream('getAuthConnectionsEventsById', {
      params,
      onFrame: async (frame) => {
        if (frame.json.flow_step === 'AWAITING_INPUT') {
          const submitted = await tour.call('postAuthConnectionsSubmit', {
            params,
            json: { fields: { username: 'me@example.com', password: 'hunter2' } },
            expect: 202,
          });
          expect(submitted.json).toEqual({ accepted: true });
        }
      },
    });
    expect(events.end).toBe('closed');
    expect(events.frames.map((f) => f.json.flow_step)).toEqual([
      'DISCOVERING',
      'AWAITING_INPUT',
      'SUBMITTING',
      'COMPLETED',
    ]);
    const after = await tour.call('getAuthConnectionsById', { params });
    expect(after.json).toMatchObject({
      status: 'AUTHENTICATED',
      flow_status: 'SUCCESS',
      credential: { name: 'tour-auth-netflix.com' },
    });
    await tour.call('deleteAuthConnectionsById', { params, expect: 204 });
  });

  it('deprecated /agents/auth API', async () => {
    const agent = await tour.call('postAgentsAuth', { json: { domain: 'example.org', profile_name: 'agent-profile' } });
    const again = await tour.call('postAgentsAuth', { json: { domain: 'example.org', profile_name: 'agent-profile' } });
    expect(again.json.id).toBe(agent.json.id);
    await tour.call('getAgentsAuth');
    await tour.call('getAgentsAuthById', { params: { id: agent.json.id } });
    const inv = await tour.call('postAgentsAuthInvocations', { json: { auth_agent_id: agent.json.id } });
    const invParams = { invocation_id: inv.json.invocation_id };
    const exchanged = await tour.call('postAgentsAuthInvocationsExchange', {
      params: invParams,
      json: { code: inv.json.handoff_code },
      token: null,
    });
    const jwt = exchanged.json.jwt;
    await waitFor(async () => {
      const a = await tour.call('getAgentsAuthInvocationsInvocationId', { params: invParams, token: jwt });
      return a.json.step === 'awaiting_input';
    });
    await tour.call('postAgentsAuthInvocationsSubmit', {
      params: invParams,
      json: { field_values: { username: 'me', password: 'pw' } },
      token: jwt,
      expect: 202,
    });
    const done = await waitFor(async () => {
      const a = await tour.call('getAgentsAuthInvocationsInvocationId', { params: invParams });
      return a.json.status === 'SUCCESS' ? a : undefined;
    });
    expect(done.json.step).toBe('completed');
    await tour.call('deleteAgentsAuthById', { params: { id: agent.json.id }, expect: 204 });
  });

  it('cleanup: deletes, and the profile archive once its session ended', async () => {
    await tour.call('deleteCredentialByIdOrName', { params: { id_or_name: 'tour-cred' }, expect: 204 });
    await tour.call('deleteExtensionByIdOrName', { params: { id_or_name: 'tour-ext' }, expect: 204 });
    await tour.call('deleteBrowsersById', { params: { id: ids['browser'] ?? '' }, expect: 204 });
    await tour.call('deleteBrowsersById', { params: { id: ids['headless'] ?? '' }, expect: 204 });
    const deleted = await tour.call('getBrowsersById', {
      params: { id: ids['browser'] ?? '' },
      query: { include_deleted: true },
    });
    expect(deleted.json.deleted_at).toBeDefined();
    const archive = await tour.call('downloadProfileByIdOrName', {
      params: { id_or_name: 'tour-profile' },
      expect: 200,
    });
    expect(archive.bytes.readUInt32LE(0)).toBe(0xfd2fb528); // zstd frame magic
    await tour.call('deleteProxiesById', { params: { id: ids['proxy'] ?? '' }, expect: 204 });
    await tour.call('deleteProfileByIdOrName', { params: { id_or_name: 'tour-profile' }, expect: 204 });
    expect(sim.openStreams()).toBe(0);
  });

  it('exercised every operation of the spec', () => {
    const all = specOperations().map((o) => o.operationId);
    expect(all).toHaveLength(133);
    expect(all.filter((id) => !tour.exercised.has(id))).toEqual([]);
  });
});
