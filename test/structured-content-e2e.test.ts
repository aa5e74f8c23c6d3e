/**
 * JSON answers carry `structuredContent` beside the text only up to 80,000 characters (the default result cap);
 * larger ones (possible only with a raised --max-result-tokens) go as the JSON text alone. Both eras' clients get
 * the same JSON either way: the built CLI over stdio against the simulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../simulator/index.js';
import { STRUCTURED_MAX_CHARS } from '../src/tools/results.js';
import { connectStdio, ERAS, type McpSession, text } from './helpers/mcp.js';

const KEY = 'sk_e2e_structured_key_0123456789';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ apiKey: KEY });
});
afterAll(async () => {
  await sim?.close();
});

describe.each(ERAS)('structured content by size (%s client)', (era) => {
  let mcp: McpSession;
  let id: string;
  beforeAll(async () => {
    mcp = await connectStdio(era, {
      env: { KERNEL_API_KEY: KEY, KERNEL_BASE_URL: sim.url },
      args: ['--max-result-tokens', '100000'],
    });
    const created = await mcp.call('browsers_create', { headless: true });
    id = (created.structuredContent as { session_id: string }).session_id;
  });
  afterAll(async () => {
    await mcp?.close();
  });

  it('sends a small JSON answer as text and as the same structuredContent', async () => {
    const r = await mcp.call('browsers_retrieve', { id });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ session_id: id });
    expect(JSON.parse(text(r))).toEqual(r.structuredContent);
  });

  it('sends a JSON answer over the threshold as its whole JSON text only', async () => {
    const items = Array.from({ length: 1500 }, (_, i) => ({ i, name: `item-${i}`, pad: 'x'.repeat(40) }));
    const r = await mcp.call('browsers_playwright_execute', { id, code: `return ${JSON.stringify({ items })}` });
    expect(r.isError).toBeFalsy();
    const body = text(r);
    expect(body.length).toBeGreaterThan(STRUCTURED_MAX_CHARS);
    expect(body).not.toContain('[cut:');
    expect(r.structuredContent).toBeUndefined();
    expect(JSON.stringify(JSON.parse(body))).toContain(JSON.stringify({ items }));
  });
});
