/**
 * MCP App views (the `io.modelcontextprotocol/ui` extension): a browser view and a login view, each one
 * self-contained HTML file built into dist/ui/ (scripts/build-ui.mjs), served as `ui://kernel/*.html` resources with
 * their CSP. Operations link to a view through their row's `view` (scripts/policy.ts). The views call the same tools
 * the model has (through the host, with the person's consent), so they need no tools of their own. Hosts without MCP
 * Apps see the same tool results as before; `--no-apps` turns all of it off.
 */
import { readFileSync } from 'node:fs';
import type { McpServer } from '@modelcontextprotocol/server';
import type { Config } from '../config.js';
import { VIEW_MIME_TYPE, VIEWS, type ViewName } from './links.js';

/** Where real Kernel sessions serve their live view. */
export const KERNEL_LIVE_VIEW_ORIGINS = ['https://*.onkernel.com'];

const html = new Map<ViewName, string>();
function viewHtml(view: ViewName): string {
  let text = html.get(view);
  if (text === undefined) {
    // dist/src/apps/views.js -> dist/ui/<view>.html
    text = readFileSync(new URL(`../../ui/${VIEWS[view].file}`, import.meta.url), 'utf8');
    html.set(view, text);
  }
  return text;
}

/** The views' resources, on one server (nothing with --no-apps). */
export function registerViews(server: McpServer, config: Config): void {
  if (config.noApps) return;
  const csp = {
    frameDomains: config.liveViewOrigins ?? KERNEL_LIVE_VIEW_ORIGINS,
    connectDomains: [],
    resourceDomains: [],
  };
  const meta = { ui: { csp, prefersBorder: true } };
  for (const [name, view] of Object.entries(VIEWS) as [ViewName, (typeof VIEWS)[ViewName]][]) {
    server.registerResource(
      `${name}-view`,
      view.uri,
      {
        title: view.title,
        description: `The ${name} view of kernel-mcp, an MCP App for hosts that show them.`,
        mimeType: VIEW_MIME_TYPE,
        _meta: meta,
      },
      async (uri) => ({ contents: [{ uri: uri.href, mimeType: VIEW_MIME_TYPE, text: viewHtml(name), _meta: meta }] }),
    );
  }
}
