/** Fault injection: each kind, its counters, and its method/path scoping. No timing assertions. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../simulator/index.js';
import { readSse, request, waitFor } from '../helpers/simulator-client.js';
import { checkAnswer } from '../helpers/simulator-tour.js';

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ eventIntervalMs: 5 });
});
afterEach(() => {
  sim.setFaults({});
});
afterAll(async () => {
  await sim.close();
});

const get = (path: string) => request(sim.url, 'GET', path);
const recorded = (path: string) => sim.requests.filter((r) => r.path === path).length;

describe('fault injection', () => {
  it('failNext answers N matching requests with the status and an Error body, then recovers', async () => {
    sim.setFaults({ failNext: { count: 2, status: 502, method: 'GET', pathPrefix: '/profiles' } });
    expect((await request(sim.url, 'POST', '/profiles', { json: {} })).status).toBe(201); // other method
    expect((await get('/proxies')).status).toBe(200); // other path
    const first = await get('/profiles');
    expect(first.status).toBe(502);
    expect(first.json).toEqual({ code: 'internal_error', message: 'injected failure' });
    expect((await get('/profiles')).status).toBe(502);
    expect(sim.getFaults().failNext?.count).toBe(0);
    expect((await get('/profiles')).status).toBe(200);
  });

  it('failNext defaults to 503 service_unavailable', async () => {
    sim.setFaults({ failNext: { count: 1 } });
    const a = await get('/browsers');
    expect(a.status).toBe(503);
    expect(a.json.code).toBe('service_unavailable');
    expect((await get('/browsers')).status).toBe(200);
  });

  it('rateLimitNext answers 429 with Retry-After and the spec Error body', async () => {
    sim.setFaults({ rateLimitNext: { count: 1, retryAfterSeconds: 7, pathPrefix: '/browsers' } });
    const a = await request(sim.url, 'POST', '/browsers', { json: {} });
    expect(a.status).toBe(429);
    expect(a.headers.get('retry-after')).toBe('7');
    checkAnswer('postBrowsers', a); // 429 is declared for postBrowsers, with Retry-After
    expect((await request(sim.url, 'POST', '/browsers', { json: {} })).status).toBe(200);
  });

  it('resetNext processes the request but cuts the answer mid-way and destroys the socket', async () => {
    sim.setFaults({ resetNext: { count: 1, method: 'POST', pathPrefix: '/profiles' } });
    await expect(request(sim.url, 'POST', '/profiles', { json: { name: 'reset-victim' } })).rejects.toThrow();
    // The side effect happened before the cut; the next request is answered normally.
    const listed = await get('/profiles');
    expect(listed.json.map((p: { name?: string }) => p.name)).toContain('reset-victim');
  });

  it('resetNext also cuts answers without a body and event streams', async () => {
    sim.setFaults({ resetNext: { count: 1, pathPrefix: '/org/api_keys' } });
    await expect(get('/org/api_keys')).rejects.toThrow();
    const b = await request(sim.url, 'POST', '/browsers', { json: { telemetry: {} } });
    sim.setFaults({ resetNext: { count: 1, pathPrefix: `/browsers/${b.json.session_id}/telemetry` } });
    const r = await readSse(sim.url, `/browsers/${b.json.session_id}/telemetry`);
    expect(r.end).toBe('error');
    expect(r.frames.length).toBeLessThanOrEqual(1);
  });

  it('hangNext never answers; the request is recorded and the socket is released when the client gives up', async () => {
    sim.setFaults({ hangNext: { count: 1, method: 'GET', pathPrefix: '/extensions' } });
    const before = recorded('/extensions');
    const controller = new AbortController();
    const pending = request(sim.url, 'GET', '/extensions', { signal: controller.signal });
    await waitFor(() => recorded('/extensions') === before + 1);
    controller.abort();
    await expect(pending).rejects.toThrow();
    expect((await get('/extensions')).status).toBe(200);
  });

  it('latencyMs delays answers without changing them', async () => {
    sim.setFaults({ latencyMs: 60_000 });
    const controller = new AbortController();
    let answered = false;
    const pending = request(sim.url, 'GET', '/apps', { signal: controller.signal }).then(() => {
      answered = true;
    });
    await waitFor(() => recorded('/apps') > 0);
    expect(answered).toBe(false);
    controller.abort();
    await expect(pending).rejects.toThrow();
    sim.setFaults({ latencyMs: 1 });
    const a = await get('/apps');
    expect(a.status).toBe(200);
    expect(a.json).toEqual([]);
  });

  it('faults are checked in order and a request consumes at most one of them', async () => {
    sim.setFaults({ rateLimitNext: { count: 1 }, failNext: { count: 1 } });
    expect((await get('/proxies')).status).toBe(429);
    expect((await get('/proxies')).status).toBe(503);
    expect((await get('/proxies')).status).toBe(200);
  });

  it('setFaults replaces the previous faults and does not mutate the caller object', async () => {
    const faults = { failNext: { count: 5 } };
    sim.setFaults(faults);
    expect((await get('/proxies')).status).toBe(503);
    sim.setFaults({});
    expect((await get('/proxies')).status).toBe(200);
    expect(faults.failNext.count).toBe(5);
  });

  it('faults apply to the proxy-pool mount point too', async () => {
    sim.setFaults({ failNext: { count: 1, pathPrefix: '/proxies.v1.Proxies/' } });
    const a = await request(sim.url, 'POST', '/proxies.v1.Proxies/CreateSession', { json: {} });
    expect(a.status).toBe(503);
  });

  it('faults given at start apply from the first request', async () => {
    const local = await startSimulator({ faults: { failNext: { count: 1, status: 500 } } });
    try {
      expect((await request(local.url, 'GET', '/browsers')).status).toBe(500);
      expect((await request(local.url, 'GET', '/browsers')).status).toBe(200);
    } finally {
      await local.close();
    }
  });

  it('close() resolves while a request hangs', async () => {
    const local = await startSimulator({ faults: { hangNext: { count: 1 } } });
    const pending = request(local.url, 'GET', '/browsers').catch((e: Error) => e);
    await waitFor(() => local.requests.length === 1);
    await local.close();
    expect(await pending).toBeInstanceOf(Error);
    expect(local.openConnections()).toBe(0);
  });
});
