/**
 * The real KernelClient on real sockets: against the simulator (retries, rate limits, resets, hangs) and a scripted
 * loopback service (redirects, oversized, malformed and stalled answers). What the API receives is read at the
 * server; what the caller gets is the answer or the error it can act on. From the surviving mutants of client.ts.
 */

import { getEventListeners } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, FormData } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../simulator/index.js';
import { KernelClient, type KernelClientOptions, parseRetryAfter } from '../src/kernel/client.js';
import { KernelError } from '../src/kernel/errors.js';
import { createLogger } from '../src/log.js';
import { base64Forms, redact } from '../src/redact.js';
import { json, type LoopbackApi, rejection, startLoopbackApi } from './helpers/loopback-api.js';

const KEY = 'sk_client_wire_0123456789abcdef';
/**
 * Each test takes well under a second; a mutant that makes one hang (a stream that never ends, a cancel that does
 * nothing) fails it at this bound instead of the mutation run's longer time-out.
 */
const BOUND = { timeout: 8000 };

let api: LoopbackApi;
let sim: Simulator;
const dirs: string[] = [];
beforeAll(async () => {
  api = await startLoopbackApi();
  sim = await startSimulator({ apiKey: KEY });
});
afterAll(async () => {
  await api?.close();
  await sim?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const client = (options: Partial<KernelClientOptions> = {}) =>
  new KernelClient({ baseUrl: api.url, apiKey: KEY, retryBaseMs: 1, ...options });
const simClient = (options: Partial<KernelClientOptions> = {}) =>
  new KernelClient({ baseUrl: sim.url, apiKey: KEY, retryBaseMs: 1, ...options });
const failure = (p: Promise<unknown>) => rejection<KernelError>(p);
/** Requests the scripted service received from here on. */
const mark = () => api.since();
function tempDir() {
  const d = mkdtempSync(join(tmpdir(), 'client-wire-'));
  dirs.push(d);
  return d;
}

describe('what the API receives', BOUND, () => {
  it('the key as a bearer, the user agent, extra headers, and an Accept for JSON', async () => {
    const seen = mark();
    api.answer((_req, res) => json(res, 200, { ok: true }));
    await client({ headers: { 'connect-protocol-version': '1' } }).request({
      method: 'get',
      path: '/browsers',
      headers: { authorization: 'Bearer someone-else', 'x-extra': 'yes' },
    });
    await client({ userAgent: 'agent/2' }).request({ method: 'GET', path: '/browsers' });
    const [a, b] = seen();
    expect(a!.method).toBe('GET');
    expect(a!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(a!.headers['user-agent']).toBe('kernel-mcp');
    expect(a!.headers['connect-protocol-version']).toBe('1');
    expect(a!.headers['x-extra']).toBe('yes');
    expect(a!.headers.accept).toBe('application/json, */*;q=0.5');
    expect(a!.headers['content-type']).toBeUndefined();
    expect(b!.headers['user-agent']).toBe('agent/2');
  });

  it('a base URL with trailing slashes and a path without a leading one reach the same route', async () => {
    const seen = mark();
    await client({ baseUrl: `${api.url}//` }).request({ method: 'GET', path: '/browsers' });
    await client({ baseUrl: `${api.url}/` }).request({ method: 'GET', path: 'browsers' });
    expect(seen().map((r) => r.url)).toEqual(['/browsers', '/browsers']);
  });

  it('query values: arrays repeated, null and undefined left out, numbers and booleans as text', async () => {
    const seen = mark();
    await client().request({
      method: 'GET',
      path: '/browsers',
      query: { tags: ['a b', 'c'], limit: 0, headless: false, status: null, offset: undefined },
    });
    expect(seen()[0]!.url).toBe('/browsers?tags=a+b&tags=c&limit=0&headless=false');
  });

  it('a JSON body, raw bytes with their type (octet-stream by default), and multipart forms', async () => {
    const seen = mark();
    await client().request({ method: 'POST', path: '/a', json: { headless: true } });
    await client().request({ method: 'PUT', path: '/b', bytes: new Uint8Array([1, 2, 3]), contentType: 'image/png' });
    await client().request({ method: 'PUT', path: '/c', bytes: Buffer.from('xyz') });
    const form = new FormData();
    form.set('field', 'value-1');
    await client().request({ method: 'POST', path: '/d', form });
    const [a, b, c, d] = seen();
    expect(a!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(a!.body.toString())).toEqual({ headless: true });
    expect(b!.headers['content-type']).toBe('image/png');
    expect([...b!.body]).toEqual([1, 2, 3]);
    expect(c!.headers['content-type']).toBe('application/octet-stream');
    expect(c!.body.toString()).toBe('xyz');
    expect(d!.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(d!.body.toString()).toContain('value-1');
  });

  it("refuses a path with a '.' or '..' segment in any encoding, and sends nothing", async () => {
    const seen = mark();
    for (const path of ['/browsers/../org', '/browsers/%2E%2e/x', '/fs/./a', '/x/%2e']) {
      const err = await failure(client().request({ method: 'DELETE', path }));
      expect(err).toBeInstanceOf(KernelError);
      expect(err).toMatchObject({ kind: 'invalid_request', method: 'DELETE', path });
      expect(err.message).toBe(`Refused a request path with a '.' or '..' segment: ${path}`);
    }
    expect(seen()).toEqual([]);
  });

  it('sends names that only contain dots: .env, name., ..., a.b', async () => {
    const seen = mark();
    for (const path of ['/fs/.env', '/fs/name.', '/fs/...', '/fs/a.b']) {
      await client().request({ method: 'GET', path });
    }
    expect(seen().map((r) => r.url)).toEqual(['/fs/.env', '/fs/name.', '/fs/...', '/fs/a.b']);
  });

  it('a client for another key shares the settings and sends its own key', async () => {
    const seen = mark();
    api.answer((_req, res) => json(res, 503, { message: 'busy' }));
    const base = client({ userAgent: 'ua/1', headers: { 'x-svc': 's' }, maxRetries: 0 });
    const other = base.withOptions({ apiKey: 'sk_other_tenant_key_987654', pinKey: false });
    expect(other.baseUrl).toBe(api.url);
    const err = await failure(other.request({ method: 'GET', path: '/browsers' }));
    expect(err.status).toBe(503);
    const [only, ...rest] = seen();
    expect(rest).toEqual([]);
    expect(only!.headers).toMatchObject({
      authorization: 'Bearer sk_other_tenant_key_987654',
      'user-agent': 'ua/1',
      'x-svc': 's',
    });
    api.answer((_req, res) => json(res, 200, {}));
  });
});

describe('keys', BOUND, () => {
  it("the process's own key is redacted everywhere, also base64-encoded; a passthrough key is not pinned", () => {
    const own = 'sk_pinned_own_key_5566778899';
    const passthrough = 'sk_passthrough_key_1122334455';
    new KernelClient({ baseUrl: api.url, apiKey: own });
    new KernelClient({ baseUrl: api.url, apiKey: passthrough, pinKey: false });
    expect(redact(`a ${own} b`)).toBe('a [redacted] b');
    const encoded = Buffer.from(`{"auth":"${own}"}`).toString('base64');
    expect(base64Forms(own).some((f) => encoded.includes(f))).toBe(true);
    expect(redact(encoded)).toContain('[redacted]');
    expect(redact(`a ${passthrough} b`)).toBe(`a ${passthrough} b`);
  });
});

describe('answers', BOUND, () => {
  it('hands back the status, headers, content type and the whole body, read in many chunks', async () => {
    const part = 'x'.repeat(64 * 1024);
    api.answer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-has-more': 'true' });
      for (let i = 0; i < 4; i++) await new Promise<void>((r) => res.write(part, () => r()));
      res.end('end');
    });
    const res = await client().request({ method: 'GET', path: '/big' });
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('application/octet-stream');
    expect(res.headers['x-has-more']).toBe('true');
    expect(res.body.length).toBe(4 * part.length + 3);
    expect(res.body.subarray(-3).toString()).toBe('end');
  });

  it('json(): an empty answer is undefined data, invalid JSON a clear error', async () => {
    api.answer((_req, res) => {
      res.writeHead(204);
      res.end();
    });
    const empty = await client().json({ method: 'DELETE', path: '/browsers/b1' });
    expect(empty).toMatchObject({ status: 204, data: undefined });
    api.answer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{not json');
    });
    const err = await failure(client().json({ method: 'GET', path: '/browsers' }));
    expect(err).toMatchObject({ kind: 'invalid_response', method: 'GET', path: '/browsers', status: 200 });
    expect(err.message).toBe('Kernel API answered invalid JSON (GET /browsers)');
  });

  it('an answer exactly at --max-answer-bytes is read; one byte over is refused, declared or not, and not retried', async () => {
    const seen = mark();
    const limit = 1000;
    let declare = true;
    let size = limit;
    api.answer((_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(declare ? { 'content-length': String(size) } : {}),
      });
      res.end(`"${'a'.repeat(size - 2)}"`);
    });
    const ok = await client({ maxAnswerBytes: limit }).request({ method: 'GET', path: '/answer' });
    expect(ok.body.length).toBe(limit);
    size = limit + 1;
    const declared = await failure(client({ maxAnswerBytes: limit }).request({ method: 'GET', path: '/answer' }));
    expect(declared).toMatchObject({ kind: 'invalid_response', method: 'GET', path: '/answer' });
    expect(declared.message).toBe(
      'Kernel API answer is 1001 bytes, over the 1000-byte limit (--max-answer-bytes); it was not read (GET /answer).',
    );
    declare = false;
    const streamed = await failure(client({ maxAnswerBytes: limit }).request({ method: 'GET', path: '/answer' }));
    expect(streamed.message).toBe(
      'Kernel API answer is over the 1000-byte limit (--max-answer-bytes); it was not read (GET /answer).',
    );
    expect(seen().length).toBe(3);
  });

  it('the default answer bound is 64 MiB: a larger declared answer is refused before it is read', async () => {
    api.answer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(64 * 1024 * 1024 + 1) });
      res.write('[');
    });
    const err = await failure(client().request({ method: 'GET', path: '/huge' }));
    expect(err.message).toBe(
      'Kernel API answer is 67108865 bytes, over the 67108864-byte limit (--max-answer-bytes); it was not read (GET /huge).',
    );
  });

  it('an invalid Content-Length is ignored (the answer is read as it comes)', async () => {
    const body = Buffer.from('{"ok":true}');
    for (const declared of ['-1', 'abc']) {
      api.answer((_req, res) => {
        // Written raw: Node refuses to send an invalid Content-Length itself; the answer ends with the connection.
        res.socket!.end(
          `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${declared}\r\nconnection: close\r\n\r\n${body}`,
        );
      });
      const res = await client({ maxAnswerBytes: 5 })
        .request({ method: 'GET', path: '/odd' })
        .catch((e: unknown) => e as KernelError);
      // Either undici refuses the header itself, or the bound applies to the bytes read: never a hang or a crash.
      if (res instanceof KernelError) expect(res.kind).toMatch(/network|invalid_response/);
      else expect(res.body.toString()).toBe(body.toString());
    }
  });
});

describe('errors', BOUND, () => {
  it('every 3xx is a redirect error naming the Location, never followed; 400 is an API error', async () => {
    const seen = mark();
    for (const status of [300, 302, 307, 399]) {
      api.answer((_req, res) => {
        res.writeHead(status, { location: `https://elsewhere.example/${'p'.repeat(400)}` });
        res.end('moved');
      });
      const err = await failure(client().request({ method: 'GET', path: '/browsers' }));
      expect(err).toMatchObject({ kind: 'api', status, code: `http_${status}`, method: 'GET', path: '/browsers' });
      expect(err.message).toBe(
        `Kernel API answered ${status}, a redirect to https://elsewhere.example/${'p'.repeat(300 - 'https://elsewhere.example/'.length)} (GET /browsers). Redirects are not followed: check KERNEL_BASE_URL (the API answers directly, without redirects).`,
      );
    }
    api.answer((_req, res) => {
      res.writeHead(301);
      res.end();
    });
    const bare = await failure(client().request({ method: 'GET', path: '/x' }));
    expect(bare.message).toContain('a redirect without a Location (GET /x)');
    api.answer((_req, res) => json(res, 400, { code: 'bad_request', message: 'limit must be positive' }));
    const bad = await failure(client().request({ method: 'GET', path: '/x' }));
    expect(bad.message).toBe('Kernel API 400 bad_request: limit must be positive (GET /x).');
    expect(seen().every((r) => r.headers.host === new URL(api.url).host)).toBe(true);
    expect(seen().length).toBe(6);
  });

  it('an error answer is read up to 64 KiB only (its message is all that is used)', async () => {
    const message = 'm'.repeat(70 * 1024);
    api.answer((_req, res) => json(res, 422, { code: 'too_long', message }));
    const err = await failure(client().request({ method: 'POST', path: '/x', json: {} }));
    // Cut at 64 KiB the JSON no longer parses: the message starts with the body's first 300 characters.
    expect(err.status).toBe(422);
    expect(err.message).toBe(
      `Kernel API 422 unprocessable_entity: {"code":"too_long","message":"${'m'.repeat(270)} (POST /x).`,
    );
  });

  it('an error answer that declares more than 64 KiB is still the API error', async () => {
    api.answer((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain', 'content-length': String(100 * 1024) });
      res.end(`boom ${'z'.repeat(100 * 1024 - 5)}`);
    });
    const err = await failure(client({ maxRetries: 0 }).request({ method: 'GET', path: '/x' }));
    expect(err).toMatchObject({ kind: 'api', status: 500 });
    expect(err.message).toMatch(/^Kernel API 500 internal_error: boom z+ \(GET \/x\)\. This is a server-side failure/);
  });

  it('a malformed answer is a network error quoting the parser; a refused connection says it was reset', async () => {
    api.answer((_req, res) => {
      res.socket!.end('NOT-HTTP garbage\r\n\r\n');
    });
    const garbage = await failure(client({ maxRetries: 0 }).request({ method: 'POST', path: '/x', json: {} }));
    expect(garbage).toMatchObject({ kind: 'network', method: 'POST', path: '/x' });
    // The parser's own words, not the error's name.
    const cause = (garbage as { cause?: Error }).cause!;
    expect(garbage.message).toBe(`Could not reach the Kernel API at ${api.url}: ${cause.message} (POST /x).`);
    api.answer((_req, res) => {
      res.writeHead(200, { 'x-huge': 'h'.repeat(70 * 1024) });
      res.end('{}');
    });
    const overflow = await failure(client({ maxRetries: 0 }).request({ method: 'GET', path: '/x' }));
    expect((overflow as { cause?: { code?: string } }).cause?.code).toBe('UND_ERR_HEADERS_OVERFLOW');
    expect(overflow.message).not.toContain('connection was reset');
    api.answer((_req, res) => json(res, 200, {}));
    const closed = await startLoopbackApi();
    const url = closed.url;
    await closed.close();
    const refused = await failure(
      new KernelClient({ baseUrl: url, apiKey: KEY, maxRetries: 0 }).request({ method: 'GET', path: '/x' }),
    );
    expect(refused.message).toBe(`Could not reach the Kernel API at ${url}: the connection was reset (GET /x).`);
  });
});

describe('retries', BOUND, () => {
  it('waits its own backoff (base/2..base, doubling) when there is no Retry-After, and logs each retry', async () => {
    const waits: number[] = [];
    const lines: string[] = [];
    sim.setFaults({ failNext: { count: 2, status: 503, pathPrefix: '/browsers' } });
    const res = await simClient({
      retryBaseMs: 400,
      sleep: async (ms) => void waits.push(ms),
      logger: createLogger('debug', (l) => lines.push(l)),
    }).request({ method: 'GET', path: '/browsers' });
    expect(res.status).toBe(200);
    expect(waits.length).toBe(2);
    expect(waits[0]).toBeGreaterThanOrEqual(200);
    expect(waits[0]).toBeLessThanOrEqual(400);
    expect(waits[1]).toBeGreaterThanOrEqual(400);
    expect(waits[1]).toBeLessThanOrEqual(800);
    const retries = lines.filter((l) => l.includes('retrying'));
    expect(retries.length).toBe(2);
    expect(retries[0]).toContain(
      'kernel-mcp debug: retrying {"method":"GET","path":"/browsers","status":503,"waitMs":',
    );
  });

  it('the default backoff base is 250 ms', async () => {
    const waits: number[] = [];
    sim.setFaults({ failNext: { count: 1, status: 502, pathPrefix: '/browsers' } });
    await new KernelClient({ baseUrl: sim.url, apiKey: KEY, sleep: async (ms) => void waits.push(ms) }).request({
      method: 'GET',
      path: '/browsers',
    });
    expect(waits.length).toBe(1);
    expect(waits[0]).toBeGreaterThanOrEqual(125);
    expect(waits[0]).toBeLessThanOrEqual(250);
  });

  it('really waits the Retry-After before asking again', async () => {
    sim.resetRequests();
    sim.setFaults({ rateLimitNext: { count: 1, retryAfterSeconds: 1, pathPrefix: '/browsers' } });
    const res = await simClient().request({ method: 'GET', path: '/browsers' });
    expect(res.status).toBe(200);
    const asked = sim.requests.filter((r) => r.path === '/browsers');
    expect(asked.length).toBe(2);
    expect(asked[1]!.at - asked[0]!.at).toBeGreaterThanOrEqual(900);
  });

  it('a Retry-After over the most it waits (30 s by default) is answered at once, equal to it is waited', async () => {
    const waits: number[] = [];
    const sleep = async (ms: number) => void waits.push(ms);
    sim.resetRequests();
    sim.setFaults({ rateLimitNext: { count: 1, retryAfterSeconds: 31, pathPrefix: '/browsers' } });
    const err = await failure(simClient({ sleep }).request({ method: 'GET', path: '/browsers' }));
    expect(err).toMatchObject({ kind: 'api', status: 429, retryAfterSeconds: 31 });
    expect(sim.requests.length).toBe(1);
    sim.setFaults({ rateLimitNext: { count: 1, retryAfterSeconds: 5, pathPrefix: '/browsers' } });
    await simClient({ sleep, maxRetryAfterSeconds: 5 }).request({ method: 'GET', path: '/browsers' });
    expect(waits).toEqual([5000]);
    sim.setFaults({ rateLimitNext: { count: 1, retryAfterSeconds: 6, pathPrefix: '/browsers' } });
    const over = await failure(
      simClient({ sleep, maxRetryAfterSeconds: 5 }).request({ method: 'GET', path: '/browsers' }),
    );
    expect(over.status).toBe(429);
    expect(waits).toEqual([5000]);
    sim.setFaults({});
  });

  it('does not wait past its own deadline: the answer in hand is the error', async () => {
    sim.resetRequests();
    sim.setFaults({ rateLimitNext: { count: 1, retryAfterSeconds: 5, pathPrefix: '/browsers' } });
    const err = await failure(simClient({ timeoutMs: 2000 }).request({ method: 'GET', path: '/browsers' }));
    expect(err).toMatchObject({ kind: 'api', status: 429 });
    expect(sim.requests.length).toBe(1);
    sim.setFaults({ resetNext: { count: 1, pathPrefix: '/browsers' } });
    sim.resetRequests();
    const reset = await failure(
      simClient({ timeoutMs: 1000, retryBaseMs: 5000 }).request({ method: 'GET', path: '/browsers' }),
    );
    expect(reset).toMatchObject({ kind: 'network', method: 'GET', path: '/browsers' });
    expect(sim.requests.length).toBe(1);
    sim.setFaults({});
  });

  it('retries a connection reset maxRetries times, then reports it; logs each retry with its attempt', async () => {
    const lines: string[] = [];
    sim.resetRequests();
    sim.setFaults({ resetNext: { count: 5, pathPrefix: '/browsers' } });
    const err = await failure(
      simClient({ maxRetries: 1, logger: createLogger('debug', (l) => lines.push(l)) }).request({
        method: 'GET',
        path: '/browsers',
      }),
    );
    expect(err).toMatchObject({ kind: 'network', method: 'GET', path: '/browsers' });
    expect(err.message).toBe(`Could not reach the Kernel API at ${sim.url}: the connection was reset (GET /browsers).`);
    expect(sim.requests.length).toBe(2);
    expect(lines.filter((l) => l.includes('retrying after a connection failure'))).toEqual([
      'kernel-mcp debug: retrying after a connection failure {"method":"GET","path":"/browsers","attempt":1}\n',
    ]);
    sim.setFaults({});
  });

  it('an answer it refused to read is not asked for again', async () => {
    const seen = mark();
    api.answer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000' });
      res.end(`"${'a'.repeat(4998)}"`);
    });
    const err = await failure(client({ maxAnswerBytes: 100 }).request({ method: 'GET', path: '/a' }));
    expect(err.kind).toBe('invalid_response');
    expect(seen().length).toBe(1);
  });
});

describe('time-outs and cancellation', BOUND, () => {
  it('names the time-out in ms under a second and in whole seconds from a second on', async () => {
    sim.setFaults({ hangNext: { count: 3, pathPrefix: '/browsers' } });
    const messages: string[] = [];
    for (const timeoutMs of [300, 1000, 1500]) {
      const err = await failure(simClient({ maxRetries: 0 }).request({ method: 'GET', path: '/browsers', timeoutMs }));
      expect(err).toMatchObject({ kind: 'timeout', method: 'GET', path: '/browsers' });
      messages.push(err.message);
    }
    expect(messages).toEqual([
      'Kernel API did not answer within 300ms (GET /browsers). Retry, or raise KERNEL_TIMEOUT_MS.',
      'Kernel API did not answer within 1s (GET /browsers). Retry, or raise KERNEL_TIMEOUT_MS.',
      'Kernel API did not answer within 2s (GET /browsers). Retry, or raise KERNEL_TIMEOUT_MS.',
    ]);
    sim.setFaults({});
  });

  it("undici's own header and body time-outs are time-outs too", async () => {
    api.answer(() => {});
    const headers = new Agent({ headersTimeout: 200 });
    const noHeaders = await failure(
      client({ dispatcher: headers, maxRetries: 0 }).request({ method: 'GET', path: '/slow' }),
    );
    expect(noHeaders.kind).toBe('timeout');
    api.answer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[');
    });
    const body = new Agent({ bodyTimeout: 200 });
    const noBody = await failure(client({ dispatcher: body, maxRetries: 0 }).request({ method: 'GET', path: '/slow' }));
    expect(noBody.kind).toBe('timeout');
    await headers.close();
    await body.close();
    api.answer((_req, res) => json(res, 200, {}));
  });

  it('a signal cancelled before the call sends nothing; one cancelled with any reason is a cancellation', async () => {
    const seen = mark();
    const before = new AbortController();
    before.abort();
    const err = await failure(client().request({ method: 'GET', path: '/x', signal: before.signal }));
    expect(err).toMatchObject({ kind: 'aborted', method: 'GET', path: '/x' });
    expect(err.message).toBe('Request cancelled (GET /x)');
    expect(seen()).toEqual([]);
    const during = new AbortController();
    api.answer(() => during.abort('the client went away'));
    const reason = await failure(client().request({ method: 'GET', path: '/y', signal: during.signal }));
    expect(reason).toMatchObject({ kind: 'aborted', method: 'GET', path: '/y' });
    api.answer((_req, res) => json(res, 200, {}));
  });

  it('a cancel during a Retry-After wait ends the call at once', async () => {
    const controller = new AbortController();
    sim.setFaults({ rateLimitNext: { count: 1, retryAfterSeconds: 20, pathPrefix: '/browsers' } });
    const lines: string[] = [];
    const pending = failure(
      simClient({
        logger: createLogger('debug', (l) => {
          lines.push(l);
          if (l.includes('retrying')) setImmediate(() => controller.abort());
        }),
      }).request({ method: 'GET', path: '/browsers', signal: controller.signal }),
    );
    const err = await pending;
    expect(err.kind).toBe('aborted');
    expect(lines.length).toBe(1);
    sim.setFaults({});
  });

  it('leaves no listener on the caller’s signal once a request or a stream is over', async () => {
    const controller = new AbortController();
    api.answer((_req, res) => json(res, 200, {}));
    await client().request({ method: 'GET', path: '/x', signal: controller.signal });
    await failure(client().request({ method: 'GET', path: '/x/../y', signal: controller.signal }));
    api.answer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('data: one\n\n');
    });
    for await (const _ of client().stream({ method: 'GET', path: '/events', signal: controller.signal })) {
      // read to the end
    }
    const closed = await startLoopbackApi();
    await closed.close();
    await failure(
      (async () => {
        for await (const _ of new KernelClient({ baseUrl: closed.url, apiKey: KEY }).stream({
          method: 'GET',
          path: '/events',
          signal: controller.signal,
        })) {
          // nothing comes
        }
      })(),
    );
    expect(getEventListeners(controller.signal, 'abort')).toEqual([]);
    api.answer((_req, res) => json(res, 200, {}));
  });
});

describe('downloads', BOUND, () => {
  const refusal = 'Too large for this transport';
  /** GET /z as a download: held in memory up to 10 bytes, then saved to `file` (refused without one). */
  const download = (file: string | undefined, options: Partial<KernelClientOptions> = {}) =>
    client(options).request({
      method: 'GET',
      path: '/z',
      download: { bufferBytes: 10, ...(file ? { file } : {}), refusal },
    });
  const bytesAnswer =
    (size: number, declare: boolean, type = 'application/zip') =>
    (_req: unknown, res: import('node:http').ServerResponse) => {
      res.writeHead(200, { 'content-type': type, ...(declare ? { 'content-length': String(size) } : {}) });
      res.end(Buffer.alloc(size, 7));
    };

  it('bytes up to bufferBytes stay in memory, declared or not; a JSON answer is never saved', async () => {
    const dir = tempDir();
    const file = join(dir, 'out.zip');
    for (const declare of [true, false]) {
      api.answer(bytesAnswer(100, declare));
      const res = await client().request({ method: 'GET', path: '/z', download: { bufferBytes: 100, file, refusal } });
      expect(res.file).toBeUndefined();
      expect(res.body.length).toBe(100);
    }
    api.answer((_req, res) => json(res, 200, { big: 'x'.repeat(500) }));
    const asJson = await download(file);
    expect(asJson.file).toBeUndefined();
    expect(JSON.parse(asJson.body.toString()).big.length).toBe(500);
  });

  it('past bufferBytes: saved to the file (0600, folders made, the key redacted) or refused without one', async () => {
    const dir = tempDir();
    for (const declare of [true, false]) {
      const file = join(dir, `nested-${declare}`, 'deeper', 'out.bin');
      const payload = Buffer.concat([Buffer.alloc(150, 1), Buffer.from(KEY), Buffer.alloc(150, 2)]);
      api.answer((_req, res) => {
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          ...(declare ? { 'content-length': String(payload.length) } : {}),
        });
        res.write(payload.subarray(0, 160));
        res.end(payload.subarray(160));
      });
      const res = await client().request({ method: 'GET', path: '/z', download: { bufferBytes: 100, file, refusal } });
      const saved = readFileSync(file);
      expect(res).toMatchObject({ status: 200, file: { path: file, bytes: saved.length } });
      expect(res.body.length).toBe(0);
      expect(saved.toString()).not.toContain(KEY);
      expect(saved.length).toBe(300 + '[redacted]'.length);
      expect(saved.subarray(0, 150).every((b) => b === 1)).toBe(true);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      api.answer(bytesAnswer(101, declare));
      const err = await failure(
        client().request({ method: 'GET', path: '/z', download: { bufferBytes: 100, refusal } }),
      );
      expect(err).toMatchObject({ kind: 'invalid_response', method: 'GET', path: '/z' });
      expect(err.message).toBe(`${refusal} (GET /z)`);
    }
  });

  it('a file is bounded by --max-download-bytes (4 GiB by default): over it, refused and nothing left behind', async () => {
    const dir = tempDir();
    const file = join(dir, 'bounded.bin');
    api.answer(bytesAnswer(500, true));
    const declared = await failure(download(file, { maxDownloadBytes: 499 }));
    expect(declared.message).toBe(
      'Kernel API answer is 500 bytes, over the 499-byte limit (--max-download-bytes); it was not read (GET /z).',
    );
    api.answer(bytesAnswer(500, false));
    const streamed = await failure(download(file, { maxDownloadBytes: 499 }));
    expect(streamed.message).toBe(
      'Kernel API answer is over the 499-byte limit (--max-download-bytes); it was not read (GET /z).',
    );
    expect(() => statSync(file)).toThrow();
    api.answer(bytesAnswer(500, true));
    const declaredExact = await download(file, { maxDownloadBytes: 500 });
    expect(declaredExact.file).toEqual({ path: file, bytes: 500 });
    api.answer(bytesAnswer(500, false));
    const exact = await download(file, { maxDownloadBytes: 500 });
    expect(exact.file).toEqual({ path: file, bytes: 500 });
    api.answer((_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(4 * 1024 ** 3 + 1) });
      res.write('x');
    });
    const huge = await failure(
      client().request({ method: 'GET', path: '/z', download: { bufferBytes: 10, file: join(dir, 'huge'), refusal } }),
    );
    expect(huge.message).toBe(
      'Kernel API answer is 4294967297 bytes, over the 4294967296-byte limit (--max-download-bytes); it was not read (GET /z).',
    );
  });

  it('the bound counts every chunk of a long answer: at it is saved, past it refused', async () => {
    const dir = tempDir();
    const file = join(dir, 'chunks.bin');
    api.answer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      for (let i = 0; i < 3; i++) {
        await new Promise<void>((r) => res.write(Buffer.alloc(200, i), () => r()));
        // Pacing only: each part in its own packet (nothing is asserted about time).
        await new Promise((r) => setTimeout(r, 30));
      }
      res.end();
    });
    const at = await download(file, { maxDownloadBytes: 600 });
    expect(at.file).toEqual({ path: file, bytes: 600 });
    expect([...readFileSync(file).subarray(195, 205)]).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    const over = await failure(download(file, { maxDownloadBytes: 599 }));
    expect(over.message).toBe(
      'Kernel API answer is over the 599-byte limit (--max-download-bytes); it was not read (GET /z).',
    );
  });

  it('a refused answer closes its connection instead of reading on', async () => {
    const closed = new Promise<void>((resolve) => {
      api.answer((req, res) => {
        res.writeHead(200, { 'content-type': 'application/zip', 'content-length': String(10_000) });
        res.write(Buffer.alloc(100));
        req.socket.once('close', () => resolve());
      });
    });
    const err = await failure(client().request({ method: 'GET', path: '/z', download: { bufferBytes: 10, refusal } }));
    expect(err.message).toBe(`${refusal} (GET /z)`);
    await closed;
  });

  it('a file that cannot be written says where and why', async () => {
    const dir = tempDir();
    api.answer(bytesAnswer(300, true));
    const err = await failure(
      client().request({ method: 'GET', path: '/z', download: { bufferBytes: 10, file: dir, refusal } }),
    );
    expect(err).toMatchObject({ kind: 'invalid_response', method: 'GET', path: '/z' });
    expect(err.message).toBe(`Could not save the answer to ${dir} (EISDIR): check --output-dir.`);
  });
});

describe('event streams', BOUND, () => {
  const sse = (res: import('node:http').ServerResponse, extra: Record<string, string> = {}) =>
    res.writeHead(200, { 'content-type': 'text/event-stream', ...extra });

  it('asks for text/event-stream with the key; Last-Event-ID only when resuming', async () => {
    const seen = mark();
    api.answer((_req, res) => {
      sse(res);
      res.end('id: 7\nevent: log\ndata: hello\n\n');
    });
    const events = [];
    for await (const e of client().stream({ method: 'get', path: '/events' })) events.push(e);
    for await (const e of client().stream({ method: 'GET', path: '/events', lastEventId: '6' })) events.push(e);
    expect(events).toEqual([
      { id: '7', event: 'log', data: 'hello' },
      { id: '7', event: 'log', data: 'hello' },
    ]);
    const [first, resumed] = seen();
    expect(first!.method).toBe('GET');
    expect(first!.headers.accept).toBe('text/event-stream');
    expect(first!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(first!.headers['last-event-id']).toBeUndefined();
    expect(resumed!.headers['last-event-id']).toBe('6');
  });

  it('yields each event as it arrives, before the stream ends', async () => {
    let next!: () => void;
    const gate = new Promise<void>((r) => {
      next = r;
    });
    api.answer(async (_req, res) => {
      sse(res);
      res.write('data: first\n\n');
      await gate;
      res.end('data: second\n\n');
    });
    const it = client().stream({ method: 'GET', path: '/events' })[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ data: 'first' });
    next();
    expect((await it.next()).value).toMatchObject({ data: 'second' });
    expect((await it.next()).done).toBe(true);
  });

  it('a character split between two chunks arrives whole', async () => {
    const bytes = Buffer.from('data: café ☕\n\n');
    const cut = bytes.indexOf(Buffer.from('☕')) + 1;
    let next!: () => void;
    const gate = new Promise<void>((r) => {
      next = r;
    });
    api.answer(async (_req, res) => {
      sse(res);
      res.write(': warm-up\n\n');
      await gate;
      res.write(bytes.subarray(0, cut));
      // Pacing only: the second half goes in its own packet (nothing is asserted about time).
      await new Promise((r) => setTimeout(r, 50));
      res.end(bytes.subarray(cut));
    });
    const it = client().stream({ method: 'GET', path: '/events' })[Symbol.asyncIterator]();
    const first = it.next();
    next();
    expect((await first).value).toMatchObject({ data: 'café ☕' });
  });

  it('an event over --max-event-bytes cuts the stream with an error naming the bound', async () => {
    api.answer((_req, res) => {
      sse(res);
      res.write('data: ok\n\n');
      res.write(`data: ${'y'.repeat(500)}`);
    });
    const got: string[] = [];
    const err = await failure(
      (async () => {
        for await (const e of client({ maxEventBytes: 200 }).stream({ method: 'GET', path: '/events' }))
          got.push(e.data);
      })(),
    );
    expect(got).toEqual(['ok']);
    expect(err).toMatchObject({ kind: 'invalid_response', method: 'GET', path: '/events' });
    expect(err.message).toBe(
      'Kernel API sent an event (or a line) longer than 200 characters (--max-event-bytes); the stream was cut (GET /events).',
    );
  });

  it('the default event bound is 1 MiB', async () => {
    const big = 'b'.repeat(1024 * 1024 - 100);
    api.answer((_req, res) => {
      sse(res);
      res.write(`data: ${big}\n\n`);
      res.write(`data: ${big}${big}`);
    });
    const got: number[] = [];
    const err = await failure(
      (async () => {
        for await (const e of client().stream({ method: 'GET', path: '/events' })) got.push(e.data.length);
      })(),
    );
    expect(got).toEqual([big.length]);
    expect(err.message).toContain('longer than 1048576 characters');
  });

  it('redirects and error answers are errors; 400 and 429 carry the API message and Retry-After', async () => {
    for (const status of [300, 302, 399]) {
      api.answer((_req, res) => {
        res.writeHead(status, { location: '/elsewhere' });
        res.end();
      });
      const err = await failure(
        (async () => {
          for await (const _ of client().stream({ method: 'GET', path: '/events' })) {
            // no events
          }
        })(),
      );
      expect(err.message).toBe(
        `Kernel API answered ${status}, a redirect to /elsewhere (GET /events). Redirects are not followed: check KERNEL_BASE_URL (the API answers directly, without redirects).`,
      );
    }
    api.answer((_req, res) => json(res, 400, { code: 'bad_request', message: 'no such stream' }));
    const bad = await failure(
      (async () => {
        for await (const _ of client().stream({ method: 'GET', path: '/events' })) {
          // no events
        }
      })(),
    );
    expect(bad.message).toBe('Kernel API 400 bad_request: no such stream (GET /events).');
    api.answer((_req, res) => json(res, 429, { message: 'slow down' }, { 'retry-after': '3' }));
    const limited = await failure(
      (async () => {
        for await (const _ of client().stream({ method: 'GET', path: '/events' })) {
          // no events
        }
      })(),
    );
    expect(limited).toMatchObject({ kind: 'api', status: 429, retryAfterSeconds: 3 });
    expect(limited.message).toBe('Kernel API 429 rate_limited: slow down (GET /events). Retry after 3s.');
  });

  it('a dropped connection is a network error the caller resumes from; a cancel ends it quietly', async () => {
    api.answer((_req, res) => {
      sse(res);
      res.write('id: 1\ndata: a\n\n', () => setImmediate(() => res.socket?.destroy()));
    });
    const got: string[] = [];
    const err = await failure(
      (async () => {
        for await (const e of client().stream({ method: 'GET', path: '/events' })) got.push(e.data);
      })(),
    );
    expect(got).toEqual(['a']);
    expect(err).toMatchObject({ kind: 'network', method: 'GET', path: '/events' });
    const controller = new AbortController();
    api.answer((_req, res) => {
      sse(res);
      res.write('data: only\n\n');
    });
    const it = client().stream({ method: 'GET', path: '/events', signal: controller.signal })[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ data: 'only' });
    const after = it.next();
    controller.abort();
    expect(await after).toEqual({ value: undefined, done: true });
  });

  it('a stream lives past the client time-out once it has started; odd fields do not cut it', async () => {
    api.answer(async (_req, res) => {
      sse(res);
      res.write('data: early\n\nretry: soon\nfoo: bar\n\n');
      // Pacing only: the next event comes after the 200 ms time-out (nothing is asserted about time).
      await new Promise((r) => setTimeout(r, 400));
      res.end('data: late\n\n');
    });
    const got: string[] = [];
    for await (const e of client({ timeoutMs: 200 }).stream({ method: 'GET', path: '/events' })) got.push(e.data);
    expect(got).toEqual(['early', 'late']);
  });

  it('a stream whose answer never starts is a time-out', async () => {
    api.answer(() => {});
    const err = await failure(
      (async () => {
        for await (const _ of client().stream({ method: 'GET', path: '/events', timeoutMs: 300 })) {
          // nothing comes
        }
      })(),
    );
    expect(err).toMatchObject({ kind: 'timeout', method: 'GET', path: '/events' });
    expect(err.message).toBe(
      'Kernel API did not answer within 300ms (GET /events). Retry, or raise KERNEL_TIMEOUT_MS.',
    );
    api.answer((_req, res) => json(res, 200, {}));
  });
});

describe('the shared connection pool', BOUND, () => {
  it('without a dispatcher of its own, a client opens at most 64 connections to the API and reuses them', async () => {
    const pool = await startLoopbackApi();
    const held: (() => void)[] = [];
    let total = 0;
    pool.answer(
      (_req, res) =>
        new Promise<void>((resolve) => {
          total++;
          held.push(() => {
            json(res, 200, {});
            resolve();
          });
          // Hold answers until 64 are waiting (the pool's bound) or every request arrived, then answer them all.
          if (held.length >= 64 || total === 70) for (const answer of held.splice(0)) answer();
        }),
    );
    const c = new KernelClient({ baseUrl: pool.url, apiKey: KEY });
    await Promise.all(Array.from({ length: 70 }, (_, i) => c.request({ method: 'GET', path: `/r/${i}` })));
    expect(pool.seen.length).toBe(70);
    expect(pool.connections()).toBeLessThanOrEqual(64);
    await pool.close();
  });
});

describe('parseRetryAfter', BOUND, () => {
  it('reads seconds and HTTP dates; ignores what is neither', () => {
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('')).toBeUndefined();
    expect(parseRetryAfter('0')).toBe(0);
    expect(parseRetryAfter('7')).toBe(7);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('-5')).toBe(0);
    expect(parseRetryAfter('Infinity')).toBeUndefined();
    const inTen = parseRetryAfter(new Date(Date.now() + 10_000).toUTCString())!;
    expect(inTen).toBeGreaterThan(8);
    expect(inTen).toBeLessThanOrEqual(10);
    expect(parseRetryAfter(new Date(Date.now() - 60_000).toUTCString())).toBe(0);
  });
});
