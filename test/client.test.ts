/**
 * KernelClient against undici's MockAgent: auth header, retry rules, Retry-After, timeout, abort, error mapping
 * and redaction.
 */
import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KernelClient, parseRetryAfter } from '../src/kernel/client.js';
import { KernelError } from '../src/kernel/errors.js';
import { createLogger } from '../src/log.js';
import { redact } from '../src/redact.js';
import { waitFor } from './helpers/simulator-client.js';

const BASE = 'http://kernel.test';
const KEY = 'sk_test_unit_0123456789abcdef';

let agent: MockAgent;
let pool: ReturnType<MockAgent['get']>;

function client(overrides: Partial<ConstructorParameters<typeof KernelClient>[0]> = {}) {
  return new KernelClient({ baseUrl: BASE, apiKey: KEY, dispatcher: agent, retryBaseMs: 1, ...overrides });
}

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  pool = agent.get(BASE);
});
afterEach(async () => {
  await agent.close();
});

describe('KernelClient', () => {
  it('sends the bearer key and JSON body', async () => {
    let seen: Record<string, string> = {};
    let body = '';
    pool.intercept({ path: '/browsers', method: 'POST' }).reply(
      200,
      (opts) => {
        seen = opts.headers as Record<string, string>;
        body = String(opts.body);
        return { session_id: 'b1' };
      },
      { headers: { 'content-type': 'application/json' } },
    );
    const res = await client().json<{ session_id: string }>({
      method: 'POST',
      path: '/browsers',
      json: { headless: true },
    });
    expect(res.data.session_id).toBe('b1');
    expect(seen.authorization).toBe(`Bearer ${KEY}`);
    expect(seen['content-type']).toBe('application/json');
    expect(JSON.parse(body)).toEqual({ headless: true });
  });

  it('encodes query parameters and skips undefined ones', async () => {
    pool.intercept({ path: '/browsers?limit=2&offset=4', method: 'GET' }).reply(200, '[]');
    const res = await client().request({
      method: 'GET',
      path: '/browsers',
      query: { limit: 2, offset: 4, status: undefined },
    });
    expect(res.status).toBe(200);
  });

  it('never retries a POST, even on 503', async () => {
    let calls = 0;
    pool
      .intercept({ path: '/browsers', method: 'POST' })
      .reply(() => {
        calls++;
        return { statusCode: 503, data: { code: 'unavailable', message: 'try later' } };
      })
      .persist();
    await expect(client().request({ method: 'POST', path: '/browsers', json: {} })).rejects.toThrow(/503/);
    expect(calls).toBe(1);
  });

  it('never retries a PATCH', async () => {
    let calls = 0;
    pool
      .intercept({ path: '/browsers/b1', method: 'PATCH' })
      .reply(() => {
        calls++;
        return { statusCode: 502, data: 'bad gateway' };
      })
      .persist();
    await expect(client().request({ method: 'PATCH', path: '/browsers/b1', json: {} })).rejects.toThrow(/502/);
    expect(calls).toBe(1);
  });

  it('retries a GET after 429, honouring Retry-After', async () => {
    let calls = 0;
    const waits: number[] = [];
    pool.intercept({ path: '/browsers/b1', method: 'GET' }).reply(() => {
      calls++;
      return {
        statusCode: 429,
        data: { code: 'rate_limited', message: 'slow down' },
        responseOptions: { headers: { 'retry-after': '1' } },
      };
    });
    pool.intercept({ path: '/browsers/b1', method: 'GET' }).reply(() => {
      calls++;
      return {
        statusCode: 200,
        data: { session_id: 'b1' },
        responseOptions: { headers: { 'content-type': 'application/json' } },
      };
    });
    const sleep = async (ms: number) => void waits.push(ms);
    const res = await client({ sleep }).json<{ session_id: string }>({ method: 'GET', path: '/browsers/b1' });
    expect(res.data.session_id).toBe('b1');
    expect(calls).toBe(2);
    // The client waited for Retry-After (1 s), not its own backoff.
    expect(waits).toEqual([1000]);
  });

  it('retries GET on 502/503/504 up to maxRetries, then reports the last error', async () => {
    let calls = 0;
    pool
      .intercept({ path: '/profiles', method: 'GET' })
      .reply(() => {
        calls++;
        return { statusCode: 504, data: { code: 'gateway_timeout', message: 'upstream slow' } };
      })
      .persist();
    const err = await client({ maxRetries: 2 })
      .request({ method: 'GET', path: '/profiles' })
      .catch((e) => e);
    expect(calls).toBe(3);
    expect(err).toBeInstanceOf(KernelError);
    expect(err.message).toContain('Kernel API 504 gateway_timeout: upstream slow (GET /profiles)');
  });

  it('retries a DELETE after a connection reset', async () => {
    pool
      .intercept({ path: '/browsers/b1', method: 'DELETE' })
      .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    pool.intercept({ path: '/browsers/b1', method: 'DELETE' }).reply(204, '');
    const res = await client().request({ method: 'DELETE', path: '/browsers/b1' });
    expect(res.status).toBe(204);
  });

  it('does not retry a POST after a connection reset', async () => {
    pool
      .intercept({ path: '/browsers', method: 'POST' })
      .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    const err = await client()
      .request({ method: 'POST', path: '/browsers', json: {} })
      .catch((e) => e);
    expect(err.kind).toBe('network');
    expect(err.message).toMatch(/connection was reset \(POST \/browsers\)/);
  });

  it('times out with a clear error', async () => {
    pool.intercept({ path: '/browsers', method: 'GET' }).reply(200, '[]').delay(2_000);
    const err = await client({ timeoutMs: 200, maxRetries: 0 })
      .request({ method: 'GET', path: '/browsers' })
      .catch((e) => e);
    expect(err).toBeInstanceOf(KernelError);
    expect(err.kind).toBe('timeout');
    expect(err.message).toMatch(/did not answer within 200ms \(GET \/browsers\)/);
  });

  it('aborts when the caller cancels', async () => {
    pool.intercept({ path: '/browsers', method: 'GET' }).reply(200, '[]').delay(2_000);
    const controller = new AbortController();
    const pending = client()
      .request({ method: 'GET', path: '/browsers', signal: controller.signal })
      .catch((e) => e);
    // Cancelled once the request is out (its interceptor taken), while the answer is still coming.
    await waitFor(() => agent.pendingInterceptors().length === 0);
    controller.abort();
    const err = await pending;
    expect(err.kind).toBe('aborted');
    expect(err.message).toContain('cancelled');
  });

  it('maps the spec error body to an actionable message', async () => {
    pool.intercept({ path: '/browsers/nope', method: 'GET' }).reply(
      404,
      {
        code: 'not_found',
        message: 'browser session nope not found',
        details: [{ code: 'x', message: 'check the id' }],
      },
      { headers: { 'content-type': 'application/json' } },
    );
    const err = await client()
      .request({ method: 'GET', path: '/browsers/nope' })
      .catch((e) => e);
    expect(err.status).toBe(404);
    expect(err.code).toBe('not_found');
    expect(err.message).toBe(
      'Kernel API 404 not_found: browser session nope not found (check the id) (GET /browsers/nope).',
    );
  });

  it('never lets the API key into an error or a log', async () => {
    pool
      .intercept({ path: '/browsers', method: 'GET' })
      .reply(401, { code: 'unauthorized', message: `bad key ${KEY}` });
    const lines: string[] = [];
    const logger = createLogger('debug', (l) => lines.push(l));
    const err = await client({ logger })
      .request({ method: 'GET', path: '/browsers' })
      .catch((e) => e);
    expect(err.message).not.toContain(KEY);
    expect(err.message).toContain('[redacted]');
    logger.info(`echo ${KEY}`, { header: `Bearer ${KEY}` });
    expect(lines.join('\n')).not.toContain(KEY);
    expect(redact(`Authorization: Bearer abcdefghijklmnop`)).toBe('Authorization: Bearer [redacted]');
  });

  it('reads an event stream and resumes with Last-Event-ID', async () => {
    let lastEventId: string | undefined;
    pool.intercept({ path: '/browsers/b1/telemetry', method: 'GET' }).reply(
      200,
      (opts) => {
        lastEventId = (opts.headers as Record<string, string>)['last-event-id'];
        return 'id: 3\ndata: {"seq":3}\n\n: keepalive\n\nid: 4\ndata: {"seq":4}\n\n';
      },
      { headers: { 'content-type': 'text/event-stream' } },
    );
    const events = [];
    for await (const e of client().stream({ method: 'GET', path: '/browsers/b1/telemetry', lastEventId: '2' }))
      events.push(e);
    expect(lastEventId).toBe('2');
    expect(events.map((e) => e.id)).toEqual(['3', '4']);
    expect(JSON.parse(events[1]!.data)).toEqual({ seq: 4 });
  });

  it('parses Retry-After as seconds or a date', () => {
    expect(parseRetryAfter('3')).toBe(3);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    const inTwo = new Date(Date.now() + 2000).toUTCString();
    expect(parseRetryAfter(inTwo)).toBeGreaterThan(0);
  });
});
