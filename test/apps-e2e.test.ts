/**
 * The MCP App views in a real headless Chromium (Debian's, through playwright-core) inside a small host page that
 * speaks the MCP Apps host protocol with the ext-apps SDK's own AppBridge, connected to kernel-mcp (the built CLI over
 * stdio, a 2026-07-28 client) against a simulator started here, so the test sees every request the buttons cause.
 * Screenshots of both views at desktop and narrow widths go to test-artifacts/ (and docs/images/ with
 * KERNEL_MCP_UPDATE_DOCS_IMAGES=1).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../simulator/index.js';
import { CHROMIUM, closeBrowser, hostView, type ViewResource } from './helpers/app-host.js';
import { connectStdio, ERAS, type McpSession, ROOT, text } from './helpers/mcp.js';

const KEY = 'sk_apps_e2e_key_0123456789abcdef';
const ARTIFACTS = join(ROOT, 'test-artifacts');
const DOCS_IMAGES = process.env.KERNEL_MCP_UPDATE_DOCS_IMAGES === '1' ? join(ROOT, 'docs', 'images') : undefined;

let sim: Simulator;
let mcp: McpSession;
beforeAll(async () => {
  sim = await startSimulator({ apiKey: KEY, seed: 7 });
  mcp = await connectStdio('modern', {
    args: ['--toolsets', 'default,managed_auth', '--live-view-origins', new URL(sim.url).origin],
    env: { KERNEL_API_KEY: KEY, KERNEL_BASE_URL: sim.url },
  });
}, 60_000);
afterAll(async () => {
  await closeBrowser();
  await mcp?.close();
  await sim?.close();
});

async function readView(uri: string): Promise<ViewResource> {
  const { contents } = await mcp.client.readResource({ uri });
  const c = contents[0] as { text: string; mimeType: string; _meta?: { ui?: { csp?: ViewResource['csp'] } } };
  expect(c.mimeType).toBe('text/html;profile=mcp-app');
  return { text: c.text, csp: c._meta?.ui?.csp ?? {} };
}

async function shoot(host: { screenshot(path: string, w: number): Promise<void> }, name: string) {
  for (const dir of [ARTIFACTS, DOCS_IMAGES].filter((d): d is string => !!d)) {
    mkdirSync(dir, { recursive: true });
    await host.screenshot(join(dir, `${name}-desktop.png`), 1024);
    await host.screenshot(join(dir, `${name}-narrow.png`), 380);
  }
}

const since = (mark: number, method: string, pattern: RegExp) =>
  sim.requests.slice(mark).filter((r) => r.method === method && pattern.test(r.path));

describe.skipIf(!CHROMIUM && !process.env.CI)('MCP App views in a real browser', () => {
  it('lists the views and links them from the tools', async () => {
    const tools = await mcp.listTools();
    const meta = (name: string) =>
      (tools.find((t) => t.name === name) as { _meta?: { ui?: Record<string, unknown> } })?._meta?.ui;
    expect(meta('browsers_create')).toEqual({ resourceUri: 'ui://kernel/browser.html' });
    expect(meta('browsers_retrieve')?.resourceUri).toBe('ui://kernel/browser.html');
    expect(meta('browsers_computer_capture_screenshot')?.resourceUri).toBe('ui://kernel/browser.html');
    expect(meta('auth_connections_login')?.resourceUri).toBe('ui://kernel/login.html');
    const browser = await readView('ui://kernel/browser.html');
    expect(browser.csp.frameDomains).toEqual([new URL(sim.url).origin]);
    expect(Buffer.byteLength(browser.text)).toBeLessThan(100 * 1024);
    expect(browser.text).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    expect(Buffer.byteLength((await readView('ui://kernel/login.html')).text)).toBeLessThan(100 * 1024);
  });

  it('the browser view shows the live view, refreshes a screenshot and deletes the session', async () => {
    const created = await mcp.call('browsers_create', { headless: false, telemetry: {} });
    expect(created.isError, text(created)).toBeFalsy();
    const session = created.structuredContent as { session_id: string; browser_live_view_url: string };
    const host = await hostView(await readView('ui://kernel/browser.html'), mcp.client);
    try {
      await host.bridge.sendToolInput({ arguments: { headless: false } });
      await host.bridge.sendToolResult(created as never);
      const view = host.view();
      await view.locator('#session', { hasText: session.session_id }).waitFor();
      const live = view.locator('#screen iframe');
      await live.waitFor();
      expect(await live.getAttribute('src')).toBe(session.browser_live_view_url);
      // The live view itself (the simulator's page) loads inside the view's frame under the declared CSP.
      await expect
        .poll(() => host.page.frames().some((f) => f.url().startsWith(`${sim.url}/browser/${session.session_id}/live`)))
        .toBe(true);
      await view.locator('#state', { hasText: 'running' }).waitFor();
      await shoot(host, 'browser-view');

      let mark = sim.requests.length;
      await view.locator('#refresh').click();
      await view.locator('#screen img').waitFor();
      expect(since(mark, 'POST', /\/computer\/screenshot$/)).toHaveLength(1);

      await view.locator('#open').click();
      await expect.poll(() => host.openedLinks).toEqual([session.browser_live_view_url]);

      mark = sim.requests.length;
      await view.locator('#delete').click();
      await view.locator('#state', { hasText: 'deleted' }).waitFor();
      expect(since(mark, 'DELETE', new RegExp(`^/browsers/${session.session_id}$`))).toHaveLength(1);
      expect(host.errors).toEqual([]);
    } finally {
      await host.close();
    }
  });

  it('falls back to a screenshot for a headless session', async () => {
    const created = await mcp.call('browsers_create', { headless: true });
    const id = (created.structuredContent as { session_id: string }).session_id;
    const host = await hostView(await readView('ui://kernel/browser.html'), mcp.client, 800);
    try {
      await host.bridge.sendToolResult(created as never);
      const view = host.view();
      await view.locator('#screen img').waitFor();
      expect(await view.locator('#open').isDisabled()).toBe(true);
      expect(host.errors).toEqual([]);
    } finally {
      await host.close();
      await mcp.call('browsers_delete', { id });
    }
  });

  it('the login view follows a login flow to completion', async () => {
    const conn = await mcp.call('auth_connections_create', { domain: 'example.org', profile_name: 'apps-login' });
    const id = (conn.structuredContent as { id: string }).id;
    const login = await mcp.call('auth_connections_login', { id });
    expect(login.isError, text(login)).toBeFalsy();
    const host = await hostView(await readView('ui://kernel/login.html'), mcp.client);
    try {
      await host.bridge.sendToolInput({ arguments: { id } });
      await host.bridge.sendToolResult(login as never);
      const view = host.view();
      await view.locator('#connection', { hasText: id }).waitFor();
      await view.locator('#steps .now', { hasText: 'AWAITING_INPUT' }).waitFor({ timeout: 20_000 });
      await shoot(host, 'login-view');
      await view.locator('#open').click();
      const hosted = (login.structuredContent as { hosted_url: string }).hosted_url;
      await expect.poll(() => host.openedLinks).toEqual([hosted]);
      // The person finishes the login on the hosted page; here the agent submits the fields it asked for.
      const submitted = await mcp.call('auth_connections_submit', {
        id,
        fields: { username: 'me@example.org', password: 'correct-horse' },
      });
      expect(submitted.isError, text(submitted)).toBeFalsy();
      await view.locator('#state', { hasText: 'SUCCESS' }).waitFor({ timeout: 30_000 });
      await view.locator('#status', { hasText: 'complete' }).waitFor();
      expect(host.errors).toEqual([]);
    } finally {
      await host.close();
    }
  });
});

describe.each(ERAS)('hosts without MCP Apps (%s client)', (era) => {
  it('see the same tool results, and --no-apps serves no views', async () => {
    const env = { KERNEL_API_KEY: KEY, KERNEL_BASE_URL: sim.url };
    const withApps = await connectStdio(era, { env });
    const without = await connectStdio(era, { args: ['--no-apps'], env });
    try {
      const created = await withApps.call('browsers_create', { headless: true });
      const id = (created.structuredContent as { session_id: string }).session_id;
      // The session's uptime is the one thing that differs between two reads (also inside the JSON text).
      const mask = (r: unknown) => JSON.parse(JSON.stringify(r).replace(/uptime_ms(\\?"):\d+/g, 'uptime_ms$1:0'));
      for (const [tool, args] of [
        ['browsers_retrieve', { id }],
        ['browsers_computer_capture_screenshot', { id }],
      ] as const) {
        expect(mask(await withApps.call(tool, args))).toEqual(mask(await without.call(tool, args)));
      }
      const listed = await without.listTools();
      expect(listed.some((t) => (t as { _meta?: { ui?: unknown } })._meta?.ui)).toBe(false);
      const { resources } = await without.client.listResources();
      expect(resources.filter((r) => String(r.uri).startsWith('ui://'))).toEqual([]);
      await withApps.call('browsers_delete', { id });
    } finally {
      await withApps.close();
      await without.close();
    }
  });
});
