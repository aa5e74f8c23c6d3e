/** The proxy-pool sessions service (Connect RPC): its toolset, for the tool registry and selection. */
export { proxyPoolTools } from './tools.js';
export { isProxyPoolName, proxyPoolUnavailableMessage } from './toolset.js';
