/** The proxy-pool sessions service (Connect RPC): its toolset, for the tool registry and selection. */
export { proxyPoolTools } from './tools.js';
export { isProxyPoolName, PROXY_POOL_TOOL_NAMES, PROXY_POOL_TOOLSET, proxyPoolUnavailableMessage } from './toolset.js';
