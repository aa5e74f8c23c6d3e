/** Behaviour of the account-level areas (apps, managed auth, credentials, proxies) and of the binary formats. */
import { describe, expect, it } from 'vitest';
import { tar, zstdStored } from '../../simulator/archive.js';
import { totp } from '../../simulator/credentials.js';
import { indexedParts, parseMultipart } from '../../simulator/multipart.js';
import { readZip, writeZip } from '../../simulator/zip.js';
import { useSimulator } from '../helpers/fixtures.js';
import { unzip } from '../helpers/simulator-binary.js';
import { type Answer, caller, formData, type Json, readSse, waitFor } from '../helpers/simulator-client.js';

const sim = useSimulator({ eventIntervalMs: 5 });

const call = caller(sim);

function expectError(a: Answer, status: number, mentions: string): void {
  expect(a.status, a.text).toBe(status);
  expect(a.json.message).toContain(mentions);
}

async function deploy(files: Record<string, string>, fields: Record<string, string>): Promise<Answer> {
  const zip = writeZip(Object.entries(files).map(([name, text]) => ({ name, data: Buffer.from(text), isDir: false })));
  return call('POST', '/deployments', { body: formData({ file: { data: zip, filename: 'app.zip' }, ...fields }) });
}

describe('deployments and invocations', () => {
  const app = 'const app = kernel.App(\'py-app\')\n@app.action("scrape")\ndef scrape(ctx, payload): pass\n';

  it('fails the build when the entrypoint is missing, with an error event', async () => {
    const d = await deploy({ 'main.py': app }, { entrypoint_rel_path: 'other.py' });
    expect(d.status).toBe(201);
    const events = await readSse(sim.url, `/deployments/${d.json.id}/events`);
    expect(events.end).toBe('closed');
    expect(events.frames.map((f) => f.json.event)).toContain('error');
    expect((await call('GET', `/deployments/${d.json.id}`)).json).toMatchObject({ status: 'failed' });
  });

  it('refuses a second deployment of the same version unless forced; deleting stops the app', async () => {
    const first = await deploy({ 'main.py': app }, { entrypoint_rel_path: 'main.py', version: '2' });
    await readSse(sim.url, `/deployments/${first.json.id}/events`);
    expectError(await deploy({ 'main.py': app }, { entrypoint_rel_path: 'main.py', version: '2' }), 400, 'force');
    const forced = await deploy({ 'main.py': app }, { entrypoint_rel_path: 'main.py', version: '2', force: 'true' });
    expect(forced.status).toBe(201);
    await readSse(sim.url, `/deployments/${forced.json.id}/events`);
    const apps = await call('GET', '/apps', { query: { app_name: 'py-app' } });
    expect(apps.json).toHaveLength(1);
    expect(apps.json[0]).toMatchObject({ deployment: forced.json.id, actions: [{ name: 'scrape' }] });
    expectError(
      await call('POST', '/deployments', { body: formData({ entrypoint_rel_path: 'x', source: '{}' }) }),
      400,
      'exactly one of',
    );
    expect((await call('DELETE', `/deployments/${forced.json.id}`)).status).toBe(204);
    expect((await call('GET', `/deployments/${forced.json.id}`)).json.status).toBe('stopped');
    expect((await call('GET', '/apps', { query: { app_name: 'py-app' } })).json).toEqual([]);
    expectError(
      await call('POST', '/invocations', { json: { app_name: 'py-app', version: '2', action_name: 'scrape' } }),
      404,
      'py-app@2',
    );
  });

  it('runs async invocations through their states; {"fail":true} fails; unknown actions are 404', async () => {
    const d = await deploy({ 'main.py': app }, { entrypoint_rel_path: 'main.py', version: 'inv' });
    await readSse(sim.url, `/deployments/${d.json.id}/events`);
    const base = { app_name: 'py-app', version: 'inv', action_name: 'scrape' };
    expectError(await call('POST', '/invocations', { json: { ...base, action_name: 'nope' } }), 404, 'nope');
    expectError(await call('POST', '/invocations', { json: { ...base, payload: '{broken' } }), 400, 'payload');
    const ok = await call('POST', '/invocations', { json: { ...base, async: true, payload: '{"n":1}' } });
    const okEvents = await readSse(sim.url, `/invocations/${ok.json.id}/events`);
    const states = okEvents.frames
      .filter((f) => f.json.event === 'invocation_state')
      .map((f) => f.json.invocation.status);
    expect(states).toEqual(['queued', 'running', 'succeeded']);
    expect(JSON.parse((await call('GET', `/invocations/${ok.json.id}`)).json.output)).toEqual({
      action: 'scrape',
      input: { n: 1 },
      result: 'success',
    });
    const bad = await call('POST', '/invocations', { json: { ...base, payload: '{"fail":true}' } });
    expect(bad.json.status).toBe('failed');
    expectError(
      await call('PATCH', `/invocations/${bad.json.id}`, { json: { status: 'succeeded' } }),
      400,
      'already finished',
    );
    const failed = await call('GET', '/invocations', { query: { status: 'failed', app_name: 'py-app' } });
    expect(failed.json.map((i: Json) => i.id)).toEqual([bad.json.id]);
    const since = await readSse(sim.url, `/invocations/${ok.json.id}/events`, {
      query: { since: '2999-01-01T00:00:00Z' },
    });
    expect(since.frames.every((f) => f.json.event !== 'log')).toBe(true);
  });
});

describe('managed auth flows', () => {
  const steps = (frames: Json[]) => frames.map((f) => f.json.flow_step);

  it('a wrong password comes back with a website error, then a retry succeeds', async () => {
    const c = await call('POST', '/auth/connections', { json: { domain: 'wrong.example.com', profile_name: 'p1' } });
    const path = `/auth/connections/${c.json.id}`;
    expectError(await call('POST', `${path}/submit`, { json: { fields: { username: 'u' } } }), 400, 'no login flow');
    await call('POST', `${path}/login`);
    let attempts = 0;
    const events = await readSse(sim.url, `${path}/events`, {
      onFrame: async (frame) => {
        if (frame.json.flow_step !== 'AWAITING_INPUT') return;
        attempts++;
        const password = attempts === 1 ? 'wrong-password' : 'right';
        await call('POST', `${path}/submit`, { json: { fields: { username: 'u@example.com', password } } });
      },
    });
    expect(steps(events.frames)).toEqual([
      'DISCOVERING',
      'AWAITING_INPUT',
      'SUBMITTING',
      'AWAITING_INPUT',
      'SUBMITTING',
      'COMPLETED',
    ]);
    expect(events.frames[3]?.json.website_error).toBe('Incorrect password');
    expect(events.frames.at(-1)?.json).toMatchObject({
      flow_status: 'SUCCESS',
      post_login_url: 'https://wrong.example.com/',
    });
  });

  it('SSO goes through an external action; stored credentials log in without input', async () => {
    const sso = await call('POST', '/auth/connections', { json: { domain: 'sso.example.com', profile_name: 'p2' } });
    const ssoPath = `/auth/connections/${sso.json.id}`;
    await call('POST', `${ssoPath}/login`);
    const ssoEvents = await readSse(sim.url, `${ssoPath}/events`, {
      onFrame: async (frame) => {
        if (frame.json.flow_step === 'AWAITING_INPUT') {
          expect(frame.json.pending_sso_buttons[0].provider).toBe('google');
          await call('POST', `${ssoPath}/submit`, { json: { sso_provider: 'google' } });
        }
      },
    });
    expect(steps(ssoEvents.frames)).toEqual(['DISCOVERING', 'AWAITING_INPUT', 'AWAITING_EXTERNAL_ACTION', 'COMPLETED']);

    await call('POST', '/credentials', {
      json: { name: 'stored', domain: 'auto.example.com', values: { username: 'a', password: 'b' } },
    });
    const auto = await call('POST', '/auth/connections', {
      json: { domain: 'auto.example.com', profile_name: 'p3', credential: { name: 'stored' } },
    });
    expect(auto.json).toMatchObject({ can_reauth: false, can_reauth_reason: 'no_prior_successful_login' });
    await call('POST', `/auth/connections/${auto.json.id}/login`);
    const autoEvents = await readSse(sim.url, `/auth/connections/${auto.json.id}/events`);
    expect(steps(autoEvents.frames)).toEqual(['DISCOVERING', 'SUBMITTING', 'COMPLETED']);
    const after = await call('GET', `/auth/connections/${auto.json.id}`);
    expect(after.json).toMatchObject({
      status: 'AUTHENTICATED',
      can_reauth: true,
      can_reauth_reason: 'has_credential',
    });
    // The next login of an authenticated connection is a re-auth.
    expect((await call('POST', `/auth/connections/${auto.json.id}/login`)).json.flow_type).toBe('REAUTH');
  });

  it('deleting a connection cancels its flow and ends its stream; bad handoff codes are refused', async () => {
    const c = await call('POST', '/auth/connections', { json: { domain: 'cancel.example.com', profile_name: 'p4' } });
    const path = `/auth/connections/${c.json.id}`;
    await call('POST', `${path}/login`);
    expectError(await call('POST', `${path}/exchange`, { json: { code: 'wrong' } }), 400, 'handoff code');
    const events = readSse(sim.url, `${path}/events`);
    await waitFor(async () => (await call('GET', path)).json.flow_step === 'AWAITING_INPUT');
    expect((await call('DELETE', path)).status).toBe(204);
    const r = await events;
    expect(r.end).toBe('closed');
    expect(r.frames.at(-1)?.json.flow_status).toBe('CANCELED');
    expectError(
      await call('POST', '/auth/connections', { json: { domain: 'not a domain', profile_name: 'p5' } }),
      400,
      'domain',
    );
  });
});

describe('credentials and proxies', () => {
  it('computes RFC 6238 TOTP codes (test vector) and hides values', async () => {
    // RFC 6238 appendix B, SHA1, T = 59 s: 94287082 (8 digits) -> 287082 with 6 digits.
    expect(totp('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 59_000)).toEqual({
      code: '287082',
      expiresAt: '1970-01-01T00:01:00.000Z',
    });
    await call('POST', '/credentials', { json: { name: 'no-totp', domain: 'x.com', values: { a: 'b' } } });
    expectError(await call('GET', '/credentials/no-totp/totp-code'), 404, 'TOTP');
    expectError(
      await call('POST', '/credentials', { json: { name: 'bad', domain: 'x.com', values: {}, totp_secret: '!!' } }),
      400,
      'base32',
    );
    expectError(
      await call('POST', '/credentials', { json: { name: 'no-totp', domain: 'x.com', values: {} } }),
      409,
      'no-totp',
    );
  });

  it('validates proxy configs per type and reports unreachable custom proxies', async () => {
    expectError(await call('POST', '/proxies', { json: { type: 'custom' } }), 400, 'config is required');
    expectError(
      await call('POST', '/proxies', { json: { type: 'residential', config: { city: 'sf' } } }),
      400,
      'country',
    );
    expectError(
      await call('POST', '/proxies', { json: { type: 'mobile', config: { carrier: 'nope' } } }),
      400,
      'config.carrier',
    );
    expectError(
      await call('POST', '/proxies', { json: { type: 'custom', config: { host: 'h' } } }),
      400,
      'config.port is required',
    );
    const p = await call('POST', '/proxies', {
      json: { type: 'custom', config: { host: 'down.invalid', port: 3128 } },
    });
    expect((await call('POST', `/proxies/${p.json.id}/check`)).json.status).toBe('unavailable');
    expectError(await call('POST', `/proxies/${p.json.id}/check`, { json: { url: 'ftp://x' } }), 400, 'http');
    await call('DELETE', `/proxies/${p.json.id}`);
    expectError(await call('GET', `/proxies/${p.json.id}`), 404, p.json.id);
    expectError(await call('POST', '/browsers', { json: { proxy_id: p.json.id } }), 400, 'proxy_id');
  });
});

describe('binary formats and multipart', () => {
  it('zip: round trip through writer and readers, stored and deflated entries', () => {
    const files = [
      { name: 'dir/', data: Buffer.alloc(0), isDir: true },
      { name: 'dir/small.txt', data: Buffer.from('a'), isDir: false },
      { name: 'dir/big.txt', data: Buffer.from('z'.repeat(10_000)), isDir: false },
    ];
    const zip = writeZip(files);
    const independent = unzip(zip);
    expect(independent.get('dir/big.txt')?.toString()).toBe('z'.repeat(10_000));
    expect(readZip(zip).map((e) => [e.name, e.data.toString()])).toEqual(files.map((f) => [f.name, f.data.toString()]));
    expect(() => readZip(Buffer.from('PK nonsense'))).toThrow();
  });

  it('zstd frames of raw blocks decode to the tar archive (header magic, names, contents)', () => {
    const archive = tar([{ name: 'Default/Preferences', data: Buffer.from('{"a":1}') }]);
    const big = Buffer.alloc(300_000, 7);
    for (const payload of [archive, big, Buffer.alloc(0)]) {
      const frame = zstdStored(payload);
      expect(frame.readUInt32LE(0)).toBe(0xfd2fb528);
      // Decode: 13-byte header (8-byte content size), then 3-byte block headers with raw blocks.
      expect(Number(frame.readBigUInt64LE(5))).toBe(payload.length);
      const out: Buffer[] = [];
      let pos = 13;
      for (;;) {
        const h = frame.readUIntLE(pos, 3);
        expect((h >> 1) & 3).toBe(0);
        out.push(frame.subarray(pos + 3, pos + 3 + (h >>> 3)));
        pos += 3 + (h >>> 3);
        if (h & 1) break;
      }
      expect(pos).toBe(frame.length);
      expect(Buffer.concat(out).equals(payload)).toBe(true);
    }
    expect(archive.toString('latin1', 257, 262)).toBe('ustar');
    expect(archive.toString('latin1', 0, 19)).toBe('Default/Preferences');
    expect(archive.toString('utf8', 512, 519)).toBe('{"a":1}');
    expect(archive.length % 512).toBe(0);
  });

  it('multipart: parses parts and pairs array-of-object fields in every SDK style', async () => {
    const boundary = 'XyZ';
    const part = (name: string, value: string, filename?: string) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}\r\n\r\n${value}\r\n`;
    const body = Buffer.from(
      part('files[][file]', 'one', 'a.txt') +
        part('files[][dest_path]', '/a') +
        part('files[][file]', 'two', 'b.txt') +
        part('files[][dest_path]', '/b') +
        part('other.0.x', '1') +
        `--${boundary}--\r\n`,
    );
    const parts = await parseMultipart(`multipart/form-data; boundary=${boundary}`, body);
    expect(parts.map((p) => [p.name, p.filename, p.data.toString()])).toEqual([
      ['files[][file]', 'a.txt', 'one'],
      ['files[][dest_path]', undefined, '/a'],
      ['files[][file]', 'b.txt', 'two'],
      ['files[][dest_path]', undefined, '/b'],
      ['other.0.x', undefined, '1'],
    ]);
    expect(
      indexedParts(parts, 'files').map((e) => [e['file']?.data.toString(), e['dest_path']?.data.toString()]),
    ).toEqual([
      ['one', '/a'],
      ['two', '/b'],
    ]);
    expect(indexedParts(parts, 'other').map((e) => e['x']?.data.toString())).toEqual(['1']);
    // An SDK may append an entry's fields in any order: the n-th occurrence of a field belongs to entry n.
    const grouped = [parts[1], parts[3], parts[0], parts[2]].filter((p) => p !== undefined);
    expect(
      indexedParts(grouped, 'files').map((e) => [e['file']?.data.toString(), e['dest_path']?.data.toString()]),
    ).toEqual([
      ['one', '/a'],
      ['two', '/b'],
    ]);
  });
});
