/**
 * A small MCP Apps host for tests: a loopback page that frames a view served with the CSP its resource declares, a
 * real headless Chromium (Debian's, driven by playwright-core; never a downloaded browser) and the ext-apps SDK's own
 * host-side bridge (AppBridge) in this process, connected to kernel-mcp through a real MCP client. Messages cross
 * between the view's postMessage and the bridge through the page.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppBridge } from '@modelcontextprotocol/ext-apps/app-bridge';
import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/server';
import { type Browser, chromium, type Frame, type Page } from 'playwright-core';

export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

export interface ViewResource {
  text: string;
  csp: { frameDomains?: string[]; connectDomains?: string[]; resourceDomains?: string[] };
}

/** The CSP a host builds from a view's declared domains (the extension's mapping). */
export function cspFor(csp: ViewResource['csp']): string {
  const list = (domains: string[] | undefined, fallback: string) => (domains?.length ? domains.join(' ') : fallback);
  return [
    "default-src 'none'",
    "script-src 'unsafe-inline'",
    "style-src 'unsafe-inline'",
    `img-src data: ${list(csp.resourceDomains, '')}`.trim(),
    `connect-src ${list(csp.connectDomains, "'none'")}`,
    `frame-src ${list(csp.frameDomains, "'none'")}`,
    "base-uri 'none'",
  ].join('; ');
}

const HOST_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>test host</title>
<style>body{margin:0;background:#f4f4f6}iframe{border:0;width:100%;height:100vh;display:block}</style></head>
<body><iframe id="view" sandbox="allow-scripts allow-same-origin" src="/view.html"></iframe>
<script>
const frame = document.getElementById('view');
window.addEventListener('message', (e) => { if (e.source === frame.contentWindow) window.__toHost(e.data); });
window.__toView = (m) => frame.contentWindow.postMessage(m, '*');
</script></body></html>`;

/** A Transport for the bridge: to the view through the page, from the view through an exposed binding. */
class PageTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  constructor(private readonly page: Page) {}
  async start() {}
  async send(message: JSONRPCMessage) {
    await this.page.evaluate((m) => (globalThis as unknown as { __toView(m: unknown): void }).__toView(m), message);
  }
  async close() {
    this.onclose?.();
  }
}

export interface AppHost {
  page: Page;
  bridge: AppBridge;
  /** The view's document. */
  view(): Frame;
  /** Console errors and page errors, in the host page and the view. */
  errors: string[];
  openedLinks: string[];
  screenshot(path: string, width: number): Promise<void>;
  close(): Promise<void>;
}

let browser: Browser | undefined;
export async function launchBrowser(): Promise<Browser> {
  browser ??= await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  return browser;
}
export async function closeBrowser() {
  await browser?.close();
  browser = undefined;
}

/** Serves the host page and the view (with its CSP), opens it, and connects the bridge once the view initialises. */
export async function hostView(resource: ViewResource, client: unknown, width = 1024): Promise<AppHost> {
  const server: Server = createServer((req, res) => {
    if (req.url === '/view.html') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': cspFor(resource.csp),
      });
      res.end(resource.text);
    } else res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(HOST_PAGE);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const page = await (await launchBrowser()).newPage({ viewport: { width, height: 760 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  const transport = new PageTransport(page);
  await page.exposeBinding('__toHost', (_source, message: JSONRPCMessage) => transport.onmessage?.(message));
  const bridge = new AppBridge(
    client as ConstructorParameters<typeof AppBridge>[0],
    { name: 'kernel-mcp-test-host', version: '1.0.0' },
    { openLinks: {}, serverTools: {}, serverResources: {} },
  );
  const openedLinks: string[] = [];
  bridge.onopenlink = async ({ url }) => {
    openedLinks.push(url);
    return {};
  };
  const initialized = new Promise<void>((resolve) => {
    bridge.oninitialized = () => resolve();
  });
  await bridge.connect(transport);
  await page.goto(`${origin}/host.html`);
  await initialized;
  const view = () => page.frames().find((f) => f.url().endsWith('/view.html')) as Frame;
  return {
    page,
    bridge,
    view,
    errors,
    openedLinks,
    async screenshot(path, w) {
      await page.setViewportSize({ width: w, height: 760 });
      await page.screenshot({ path });
    },
    async close() {
      await page.close();
      await new Promise((r) => server.close(r));
    },
  };
}
