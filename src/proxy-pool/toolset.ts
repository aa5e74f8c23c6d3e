/**
 * The proxy_pool_sessions toolset's names and the message for asking for it without the service URL. Kept apart
 * from the tool definitions so tool selection can use them without loading the tools.
 */

export const PROXY_POOL_TOOLSET = 'proxy_pool_sessions';
export const PROXY_POOL_TOOL_NAMES = [
  'proxy_pool_sessions_create',
  'proxy_pool_sessions_bulk_create',
  'proxy_pool_sessions_delete',
] as const;

/** Whether a --toolsets / --tools entry names this toolset or one of its tools. */
export function isProxyPoolName(name: string): boolean {
  return name === PROXY_POOL_TOOLSET || (PROXY_POOL_TOOL_NAMES as readonly string[]).includes(name);
}

/** The error for asking for this toolset (or one of its tools) when the service URL is not configured. */
export function proxyPoolUnavailableMessage(requested: string = PROXY_POOL_TOOLSET): string {
  const what = requested === PROXY_POOL_TOOLSET ? `The ${PROXY_POOL_TOOLSET} toolset` : `The tool ${requested}`;
  return `${what} needs the proxy-pool sessions service URL: set KERNEL_PROXY_POOL_URL (or --proxy-pool-url) to its base URL, e.g. KERNEL_PROXY_POOL_URL=https://proxy-pool.example.com. With --simulate it is set to the built-in simulator.`;
}
