/** The MCP App views' URIs and the `_meta` that links a tool to one (imported by the tool registry; imports nothing). */

export const VIEW_MIME_TYPE = 'text/html;profile=mcp-app';
export const VIEWS = {
  browser: { uri: 'ui://kernel/browser.html', file: 'browser.html', title: 'Kernel browser' },
  login: { uri: 'ui://kernel/login.html', file: 'login.html', title: 'Kernel login' },
} as const;
export type ViewName = keyof typeof VIEWS;

/**
 * The `_meta` linking a tool to its view (the extension's `ui.resourceUri`; the older flat `ui/resourceUri` key is
 * left out: every tool listing pays for it, and current hosts read `ui`).
 */
export function viewMeta(view: ViewName): Record<string, unknown> {
  return { ui: { resourceUri: VIEWS[view].uri } };
}
