/**
 * The simulator's Playwright emulation: the supported subset answers what a real browser would on the built-in pages,
 * and code outside it is an error that says so and lists the subset (never a silent success).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../simulator/index.js';
import { type Json, readSse, request } from '../helpers/simulator-client.js';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ eventIntervalMs: 60_000 });
});
afterAll(async () => {
  await sim.close();
});

async function browser(body: Json = {}): Promise<string> {
  const a = await request(sim.url, 'POST', '/browsers', { json: body });
  expect(a.status, a.text).toBe(200);
  return a.json.session_id;
}

async function run(id: string, code: string): Promise<Json> {
  const a = await request(sim.url, 'POST', `/browsers/${id}/playwright/execute`, { json: { code } });
  expect(a.status, a.text).toBe(200);
  return a.json;
}

describe('Playwright emulation', () => {
  it('reads example.com: title, url, text, content and an ARIA snapshot', async () => {
    const id = await browser();
    expect(
      await run(id, "await page.goto('https://example.com'); const t = await page.title(); return t;"),
    ).toMatchObject({ success: true, result: 'Example Domain' });
    expect((await run(id, 'return page.url()')).result).toBe('https://example.com');
    expect((await run(id, "return await page.locator('h1').textContent();")).result).toBe('Example Domain');
    expect((await run(id, 'return await page.content()')).result).toContain('<title>Example Domain</title>');
    const aria = (await run(id, "return await page.locator('body').ariaSnapshot();")).result as string;
    expect(aria).toContain('- heading "Example Domain" [level=1]');
    expect(aria).toContain('- link "Learn more"');
    expect((await run(id, 'return await page.evaluate(() => document.title)')).result).toBe('Example Domain');
    const both = await run(id, 'return {\n  title: await page.title(),\n  url: page.url(),\n}');
    expect(both.result).toEqual({ title: 'Example Domain', url: 'https://example.com' });
  });

  it('fills and submits the sign-up form', async () => {
    const id = await browser();
    const r = await run(
      id,
      `await page.goto('https://forms.example/signup');
       await page.getByLabel('Email').fill('ada@example.com');
       await page.locator('#password').fill('pw');
       await page.getByRole('button', { name: 'Sign up' }).click();
       return await page.locator('#status').textContent();`,
    );
    expect(r).toMatchObject({ success: true, result: 'Welcome, ada@example.com' });
    const aria = (await run(id, "return await page.locator('form').ariaSnapshot()")).result as string;
    expect(aria).toContain('- textbox "Email": ada@example.com');
  });

  it('console output goes to stdout/stderr and, with telemetry on, to console events', async () => {
    const id = await browser({ telemetry: { browser: {} } });
    const r = await run(id, "console.log('hello'); console.error('bad', 1); return 1");
    expect(r).toMatchObject({ success: true, result: 1, stdout: 'hello\n', stderr: 'bad 1\n' });
    await run(id, "await page.goto('https://forms.example/signup')");
    const sse = await readSse(sim.url, `/browsers/${id}/telemetry`, {
      until: (f) => f.some((x) => x.json?.event?.type === 'network_loading_failed'),
    });
    const types = sse.frames.map((f) => f.json?.event?.type as string);
    expect(types).toContain('console_log');
    expect(types.filter((t) => t === 'console_error').length).toBe(2);
    expect(types).toContain('network_loading_failed');
  });

  it('says what it cannot evaluate, and lists what it can', async () => {
    const id = await browser();
    for (const code of [
      'return await page.screenshot()',
      "const [a] = await page.$$('a')",
      'for (let i = 0; i < 3; i++) {}',
      'return await page.evaluate(() => fetch("/x"))',
    ]) {
      const r = await run(id, code);
      expect(r.success, code).toBe(false);
      expect(r.error, code).toMatch(/^Not evaluated: .* is not supported\. The Kernel API simulator emulates/);
      expect(r.result).toBeUndefined();
    }
    const missing = await run(
      id,
      "await page.goto('https://example.com'); return await page.locator('#nope').textContent()",
    );
    expect(missing).toMatchObject({ success: false });
    expect(missing.error).toContain('Timeout 30000ms exceeded');
  });
});
