/**
 * Fault injection through the MCP tools (built CLI over stdio, simulator on loopback): GET retried after 503 and
 * after 429 honouring Retry-After; POST never retried; a timeout and a reset give clear errors; the server stays
 * up through all of them.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useSimulator } from './helpers/fixtures.js';
import { connectStdio, ERAS, type McpSession, text } from './helpers/mcp.js';

const KEY = 'sk_e2e_faults_key_0123456789';

const sim = useSimulator({ apiKey: KEY });

const count = (method: string, path: string) =>
  sim.requests.filter((r) => r.method === method && r.path === path).length;

describe.each(ERAS)('faults through MCP tools (%s client)', (era) => {
  let mcp: McpSession;
  let browserId: string;
  beforeAll(async () => {
    mcp = await connectStdio(era, {
      env: {
        KERNEL_API_KEY: KEY,
        KERNEL_BASE_URL: sim.url,
        KERNEL_TIMEOUT_MS: '1500',
        KERNEL_MAX_RETRIES: '2',
        KERNEL_MCP_TOOLSETS: 'all',
      },
    });
    const created = await mcp.call('browsers_create', { headless: true });
    browserId = (created.structuredContent as { session_id: string }).session_id;
  });
  afterAll(async () => {
    await mcp?.close();
  });
  beforeEach(() => {
    sim.setFaults({});
    sim.resetRequests();
  });

  it('retries a GET after 503', async () => {
    sim.setFaults({ failNext: { count: 1, status: 503, method: 'GET', pathPrefix: `/browsers/${browserId}` } });
    const res = await mcp.call('browsers_retrieve', { id: browserId });
    expect(res.isError, text(res)).toBeFalsy();
    expect(count('GET', `/browsers/${browserId}`)).toBe(2);
  });

  it('retries a GET after 429, honouring Retry-After', async () => {
    sim.setFaults({ rateLimitNext: { count: 1, retryAfterSeconds: 1, method: 'GET', pathPrefix: '/profiles' } });
    const res = await mcp.call('profiles_list', {});
    expect(res.isError, text(res)).toBeFalsy();
    const hits = sim.requests.filter((r) => r.path === '/profiles');
    expect(hits).toHaveLength(2);
  });

  it('gives up on a long Retry-After with a clear error', async () => {
    sim.setFaults({ rateLimitNext: { count: 1, retryAfterSeconds: 3600, method: 'GET', pathPrefix: '/profiles' } });
    const res = await mcp.call('profiles_list', {});
    expect(res.isError).toBe(true);
    expect(text(res)).toMatch(/Kernel API 429 .*Retry after 3600s/);
    expect(sim.requests.filter((r) => r.path === '/profiles')).toHaveLength(1);
  });

  it('never repeats a POST after 503', async () => {
    sim.setFaults({ failNext: { count: 1, status: 503, method: 'POST', pathPrefix: '/browsers' } });
    const res = await mcp.call('browsers_create', { headless: true });
    expect(res.isError).toBe(true);
    expect(text(res)).toMatch(/^Kernel API 503 /);
    expect(count('POST', '/browsers')).toBe(1);
  });

  it('never repeats a POST after a connection reset', async () => {
    sim.setFaults({ resetNext: { count: 1, method: 'POST', pathPrefix: `/browsers/${browserId}/computer` } });
    const res = await mcp.call('browsers_computer_click_mouse', { id: browserId, x: 1, y: 1 });
    expect(res.isError).toBe(true);
    expect(text(res)).toMatch(/connection was reset|Could not reach/);
    expect(count('POST', `/browsers/${browserId}/computer/click_mouse`)).toBe(1);
  });

  it('retries a GET after a connection reset', async () => {
    sim.setFaults({ resetNext: { count: 1, method: 'GET', pathPrefix: `/browsers/${browserId}` } });
    const res = await mcp.call('browsers_retrieve', { id: browserId });
    expect(res.isError, text(res)).toBeFalsy();
    expect(count('GET', `/browsers/${browserId}`)).toBe(2);
  });

  it('reports a timeout clearly', async () => {
    sim.setFaults({ hangNext: { count: 3, method: 'GET', pathPrefix: '/extensions' } });
    const res = await mcp.call('extensions_list', {});
    expect(res.isError).toBe(true);
    expect(text(res)).toMatch(/did not answer within 2s \(GET \/extensions\)/);
  });

  it('is still up and serving after every fault', async () => {
    sim.setFaults({});
    const res = await mcp.call('browsers_retrieve', { id: browserId });
    expect(res.isError, text(res)).toBeFalsy();
    expect(mcp.stderr()).not.toContain(KEY);
  });
});
