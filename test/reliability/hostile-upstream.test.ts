/**
 * A hostile upstream: the built CLI over stdio (both eras), pointed with --base-url at a loopback server that
 * answers with each fault — an endless JSON body, a huge Content-Length, garbage, a hang, a mid-stream close, a
 * redirect, an SSE line that never ends, an SSE flood, a multi-hundred-MB download, an endless download, the
 * server's own key as bytes and as base64. Every call answers a clear error (or the bounded result it should),
 * the server stays up, its RSS stays under RSS_BOUND_MB the whole time (sampled from /proc/<pid>/status), and the
 * upstream connections of failed answers are closed. Bad path arguments and /proc paths send no request at all.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectHttp, connectStdio, type Era, type Session } from '../../bench/clients.js';
import { startHttpChild } from '../../bench/http-server.js';
import { childEnv, rssOf } from '../../bench/lib.js';
import { eventually, expectClearError, Seen, secretsFor, textOf } from './harness.js';

const S = secretsFor('hostile');
/** The bound on the server's resident memory during every fault here (it grew to 3-6 GB before the fix). */
const RSS_BOUND_MB = 300;
const DOWNLOAD_BYTES = 300 * 1024 * 1024;
const FLOOD_BYTES = 200 * 1024 * 1024;
const MAX_DOWNLOAD = 64 * 1024 * 1024;
const MAX_ANSWER = 4 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'x');

/** What the hostile server saw: every request, and the responses still open. */
const requests: { method: string; url: string }[] = [];
const open = new Map<string, number>();

function track(route: string, res: ServerResponse) {
  open.set(route, (open.get(route) ?? 0) + 1);
  res.once('close', () => open.set(route, (open.get(route) ?? 1) - 1));
}

/** Writes `next()` chunks as fast as the client reads them, until it returns undefined or the client goes. */
function pump(res: ServerResponse, next: () => Buffer | string | undefined) {
  const go = () => {
    for (;;) {
      if (res.destroyed) return;
      const chunk = next();
      if (chunk === undefined) {
        res.end();
        return;
      }
      if (!res.write(chunk)) {
        res.once('drain', go);
        return;
      }
    }
  };
  go();
}

function counted(total: number, make: (sent: number) => Buffer | string): () => Buffer | string | undefined {
  let sent = 0;
  return () => {
    if (sent >= total) return undefined;
    const c = make(sent);
    sent += c.length;
    return c;
  };
}

/** The server's key as a file's bytes, after `shift` other bytes (each base64 alignment). */
const envFile = (shift: number) => Buffer.from(`${'#'.repeat(shift)}HOME=/root\nKERNEL_API_KEY=${S.apiKey}\nX=1\n`);

function hostile(req: IncomingMessage, res: ServerResponse) {
  requests.push({ method: req.method ?? '', url: req.url ?? '' });
  const url = new URL(req.url ?? '/', 'http://x');
  const route = url.pathname;
  track(route, res);
  const json = { 'content-type': 'application/json' };
  switch (route) {
    case '/browsers/ok':
      return res.writeHead(200, json).end(JSON.stringify({ session_id: 'ok', headless: true }));
    case '/browsers/endless-json':
      res.writeHead(200, json);
      res.write('[');
      return pump(res, () => CHUNK);
    case '/browsers/huge-length':
      res.writeHead(200, { ...json, 'content-length': String(10 * 1024 ** 3) });
      res.write('{"a":"');
      return; // and nothing more: the answer would take 10 GiB
    case '/browsers/garbage':
      return res.writeHead(200, json).end('<html>\u0000\u00ff not json');
    case '/browsers/hang':
      return; // never answers
    case '/browsers/midclose':
      res.writeHead(200, { ...json, 'content-length': '100000' });
      res.write('{"session_id":"mid');
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    case '/browsers/redirect':
      return res.writeHead(302, { location: 'http://attacker.invalid/collect' }).end();
    case '/browsers/b64-0':
    case '/browsers/b64-1':
    case '/browsers/b64-2': {
      const shift = Number(route.at(-1));
      // Not UTF-8 (a 0xff byte ahead), so the answer keeps it as base64 (text is decoded: see the test below).
      const bytes = Buffer.concat([Buffer.from([0xff]), envFile(shift)]);
      return res.writeHead(200, json).end(JSON.stringify({ stdout_b64: bytes.toString('base64') }));
    }
    case '/browsers/text-b64': {
      return res.writeHead(200, json).end(JSON.stringify({ stdout_b64: envFile(0).toString('base64') }));
    }
    case '/browsers/nonewline/telemetry':
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: ');
      return pump(res, () => CHUNK);
    case '/browsers/flood/telemetry': {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let n = 0;
      const payload = 'y'.repeat(2 * 1024);
      return pump(
        res,
        counted(FLOOD_BYTES, () => {
          n++;
          return `id: ${n}\ndata: {"seq":${n},"pad":"${payload}"}\n\n`;
        }),
      );
    }
    case '/browsers/big/fs/read_file':
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      return pump(
        res,
        counted(DOWNLOAD_BYTES, () => CHUNK),
      );
    case '/browsers/endless/fs/read_file':
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      return pump(res, () => CHUNK);
    case '/browsers/secret/fs/read_file':
      return res
        .writeHead(200, { 'content-type': 'application/octet-stream' })
        .end(Buffer.concat([Buffer.from([0, 1, 2, 0xff]), envFile(0)]));
    default:
      return res.writeHead(404, json).end(JSON.stringify({ code: 'not_found', message: `no route ${route}` }));
  }
}

let upstream: Server;
let baseUrl: string;
let outputDir: string;
const sessions: Session[] = [];
const seen = new Seen(Object.values(S));
/** The highest RSS seen per server process, sampled every 25 ms. */
const peak = new Map<number, number>();
let sampler: NodeJS.Timeout;

async function start(era: Era, args: string[], env: Record<string, string> = {}): Promise<Session> {
  const s = await connectStdio(era, {
    args: ['--toolsets', 'all', '--base-url', baseUrl, '--output-dir', outputDir, ...args],
    env: childEnv({ KERNEL_API_KEY: S.apiKey, KERNEL_MCP_LOG_LEVEL: 'debug', ...env }),
  });
  sessions.push(s);
  return s;
}

const peakMb = (s: Session) => (peak.get(s.child?.pid ?? -1) ?? 0) / 1024 / 1024;

function expectAlive(s: Session, label: string) {
  expect(s.child?.exitCode ?? null, `${label}: the server is still running`).toBeNull();
  expect(peakMb(s), `${label}: RSS stayed under ${RSS_BOUND_MB} MB`).toBeLessThan(RSS_BOUND_MB);
}

beforeAll(async () => {
  outputDir = mkdtempSync(join(tmpdir(), 'kernel-mcp-hostile-'));
  upstream = createServer(hostile);
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  sampler = setInterval(() => {
    for (const s of sessions) {
      const pid = s.child?.pid;
      const rss = rssOf(pid);
      if (pid !== undefined && rss !== undefined) peak.set(pid, Math.max(peak.get(pid) ?? 0, rss));
    }
  }, 25);
});

afterAll(async () => {
  clearInterval(sampler);
  for (const s of sessions) {
    seen.add(`${s.era} stderr`, s.stderr());
    await s.close().catch(() => {});
  }
  upstream?.closeAllConnections();
  await new Promise<void>((r) => (upstream ? upstream.close(() => r()) : r()));
  rmSync(outputDir, { recursive: true, force: true });
  seen.assertClean();
});

describe.each(['modern', 'legacy'] as const)('a hostile upstream (%s client, stdio)', (era) => {
  let s: Session;
  beforeAll(async () => {
    // A short deadline for the hang; one retry for the mid-stream close; an answer bound reached in time.
    s = await start(era, ['--timeout-ms', '3000', '--max-retries', '1'], {
      KERNEL_MCP_MAX_ANSWER_BYTES: String(MAX_ANSWER),
    });
  });

  const call = async (name: string, args: Record<string, unknown>) => {
    const r = await s.call(name, args, { timeout: 20_000 });
    seen.add(`${era} ${name} ${JSON.stringify(args)}`, r);
    return r;
  };

  const FAULTS: { id: string; error: RegExp }[] = [
    { id: 'endless-json', error: new RegExp(`over the ${MAX_ANSWER}-byte limit \\(--max-answer-bytes\\)`) },
    {
      id: 'huge-length',
      error: new RegExp(`is 10737418240 bytes, over the ${MAX_ANSWER}-byte limit \\(--max-answer-bytes\\)`),
    },
    { id: 'garbage', error: /invalid JSON \(GET \/browsers\/garbage\)/ },
    { id: 'hang', error: /did not answer within 3s \(GET \/browsers\/hang\)/ },
    { id: 'midclose', error: /Could not reach the Kernel API .*(reset|terminated|closed)/i },
    {
      id: 'redirect',
      error: /answered 302, a redirect to http:\/\/attacker\.invalid\/collect \(GET \/browsers\/redirect\)/,
    },
  ];

  it.each(FAULTS)('answers $id with a clear error and closes the connection', async ({ id, error }) => {
    const r = await call('browsers_retrieve', { id });
    expect(r.isError, textOf(r)).toBe(true);
    expectClearError(textOf(r), id);
    expect(textOf(r)).toMatch(error);
    expect(await eventually(() => (open.get(`/browsers/${id}`) ?? 0) === 0, 10_000), `${id}: connection closed`).toBe(
      true,
    );
    // Still serving.
    const ok = await call('browsers_retrieve', { id: 'ok' });
    expect(ok.isError, textOf(ok)).toBeFalsy();
    expectAlive(s, id);
  });

  it('refuses empty, dot and dot-dot path arguments (any encoding) before any request, naming the field', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['invocations_list_browsers', { id: '..' }, 'id'],
      ['browsers_retrieve', { id: '.' }, 'id'],
      ['browsers_retrieve', { id: '%2e%2E' }, 'id'],
      ['browsers_retrieve', { id: '%252e' }, 'id'],
      ['browsers_retrieve', { id: '' }, 'id'],
      ['browsers_retrieve', { id: 'x/../..' }, 'id'],
      ['browsers_replays_download', { id: 'ok', replay_id: '..' }, 'replay_id'],
      ['profiles_retrieve', { id_or_name: '.%2e' }, 'id_or_name'],
    ];
    const before = requests.length;
    for (const [tool, args, field] of cases) {
      const r = await call(tool, args);
      expect(r.isError, `${tool} ${JSON.stringify(args)}: ${textOf(r)}`).toBe(true);
      expect(textOf(r)).toMatch(new RegExp(`^(Invalid argument ${field}: |Input validation error: .*${field})`));
    }
    expect(requests.slice(before)).toEqual([]);
  });

  it("never sends the server's own environment (/proc), and sends no request", async () => {
    const before = requests.length;
    for (const p of [
      '/proc/self/environ',
      `/proc/${s.child?.pid}/environ`,
      '/proc/self/cmdline',
      '/proc/self/root/proc/self/environ',
    ]) {
      const r = await call('browsers_fs_write_file', { id: 'ok', path: '/tmp/env', content_path: p });
      expect(r.isError, textOf(r)).toBe(true);
      expect(textOf(r)).toMatch(/^Invalid argument content_path: .*(process file|no such file)/);
    }
    expect(requests.slice(before)).toEqual([]);
  });

  it("redacts the server's own key in base64 text (each alignment) and in bytes", async () => {
    for (const shift of [0, 1, 2]) {
      const r = await call('browsers_retrieve', { id: `b64-${shift}` });
      expect(r.isError, textOf(r)).toBeFalsy();
      const value = String((r.structuredContent as { stdout_b64?: string }).stdout_b64);
      expect(value).toContain('[redacted]');
      // Whatever survived decodes to no part of the key.
      for (const piece of value.split('[redacted]')) {
        expect(Buffer.from(piece, 'base64').toString('latin1')).not.toContain(S.apiKey.slice(0, 12));
      }
      expect(textOf(r)).not.toContain(envFile(shift).toString('base64'));
      expect((r.structuredContent as { stdout_note?: string }).stdout_note).toContain('not valid UTF-8');
    }
    // Base64 that is UTF-8 text is decoded, and the key in it is redacted as text.
    const decoded = await call('browsers_retrieve', { id: 'text-b64' });
    const stdout = String((decoded.structuredContent as { stdout?: string }).stdout);
    expect(stdout).toContain('KERNEL_API_KEY=[redacted]');
    expect(textOf(decoded)).not.toContain(S.apiKey);
    const r = await call('browsers_fs_read_file', { id: 'secret', path: '/env' });
    expect(r.isError, textOf(r)).toBeFalsy();
    const blob = (r.content[0]?.resource as { blob?: string } | undefined)?.blob ?? '';
    expect(blob.length).toBeGreaterThan(0);
    expect(Buffer.from(blob, 'base64').toString('latin1')).not.toContain(S.apiKey);
    expect(Buffer.from(blob, 'base64').toString('latin1')).toContain('KERNEL_API_KEY=[redacted]');
  });

  it('cuts an SSE line that never ends at --max-event-bytes, and stays bounded', async () => {
    const r = await call('browsers_telemetry_stream', { id: 'nonewline', max_seconds: 3 });
    const text = textOf(r);
    expectClearError(text, 'nonewline');
    expect(text).toMatch(/longer than 1048576 characters \(--max-event-bytes\); the stream was cut/);
    if (!r.isError) expect((r.structuredContent as { events: unknown[] }).events).toEqual([]);
    // Each connection is closed once it is over the bound: never more than one open at a time.
    expect(open.get('/browsers/nonewline/telemetry') ?? 0).toBeLessThanOrEqual(1);
    expectAlive(s, 'nonewline');
  });
});

describe('big answers (modern client, stdio)', () => {
  let s: Session;
  beforeAll(async () => {
    s = await start('modern', ['--timeout-ms', '120000'], {
      KERNEL_MCP_MAX_DOWNLOAD_BYTES: String(DOWNLOAD_BYTES + MAX_DOWNLOAD),
    });
  });

  it(`streams a ${DOWNLOAD_BYTES / 1024 / 1024} MB download to the output folder with RSS under ${RSS_BOUND_MB} MB`, async () => {
    const r = await s.call('browsers_fs_read_file', { id: 'big', path: '/big.bin' }, { timeout: 120_000 });
    seen.add('big download', r);
    expect(r.isError, textOf(r)).toBeFalsy();
    const file = String(r.structuredContent?.file);
    expect(r.structuredContent?.bytes).toBe(DOWNLOAD_BYTES);
    expect(statSync(file).size).toBe(DOWNLOAD_BYTES);
    expect(r.content.some((c) => c.type === 'resource_link')).toBe(true);
    rmSync(file);
    expectAlive(s, 'big download');
  });

  it('stops an endless download at --max-download-bytes and removes the partial file', async () => {
    const r = await s.call('browsers_fs_read_file', { id: 'endless', path: '/endless.bin' }, { timeout: 120_000 });
    seen.add('endless download', r);
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(
      new RegExp(`over the ${DOWNLOAD_BYTES + MAX_DOWNLOAD}-byte limit \\(--max-download-bytes\\)`),
    );
    expect(await eventually(() => (open.get('/browsers/endless/fs/read_file') ?? 0) === 0)).toBe(true);
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(outputDir).filter((f) => f.includes('endless'))).toEqual([]);
    expectAlive(s, 'endless download');
  });

  it(`keeps a ${FLOOD_BYTES / 1024 / 1024} MB SSE flood within the stream buffer`, async () => {
    let cursor: string | undefined;
    let events = 0;
    // Read until the flood has all been sent and read (the buffer keeps the newest, so reads skip ahead).
    for (let i = 0; i < 400; i++) {
      const r = await s.call(
        'browsers_telemetry_stream',
        { id: 'flood', max_seconds: 5, max_events: 1000, ...(cursor ? { after: cursor } : {}) },
        { timeout: 30_000 },
      );
      expect(r.isError, textOf(r)).toBeFalsy();
      const page = r.structuredContent as { events: unknown[]; cursor: string | null; ended: boolean };
      events += page.events.length;
      cursor = page.cursor ?? cursor;
      if (page.ended) break;
    }
    expect(events).toBeGreaterThan(0);
    expect(Number(cursor)).toBeGreaterThan(FLOOD_BYTES / (2.1 * 1024) - 1000);
    expectAlive(s, 'flood');
  });
});

describe('big answers over HTTP (both eras)', () => {
  it('refuses a binary answer over the inline limit with an error naming it, without reading it', async () => {
    const server = await startHttpChild({ baseUrl, apiKey: S.apiKey, token: S.httpToken });
    try {
      for (const era of ['modern', 'legacy'] as const) {
        const c = await connectHttp(era, server.url, server.token);
        try {
          const r = await c.call('browsers_fs_read_file', { id: 'big', path: '/big.bin' }, { timeout: 60_000 });
          seen.add(`${era} http big`, r);
          expect(r.isError, textOf(r)).toBe(true);
          expectClearError(textOf(r), 'http big');
          expect(textOf(r)).toMatch(/over 33554432 bytes, the most returned inline over HTTP; it was not read/);
          expect(await eventually(() => (open.get('/browsers/big/fs/read_file') ?? 0) === 0)).toBe(true);
        } finally {
          await c.close();
        }
      }
      expect(server.child.exitCode).toBeNull();
      seen.add('http stderr', server.stderr());
    } finally {
      await server.stop();
    }
  });
});
