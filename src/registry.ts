/**
 * Every tool the process can offer, before selection: the Kernel API operations and the page snapshot, plus tool
 * providers that need configuration (the proxy-pool service, when its URL is set).
 */
import type { Config } from './config.js';
import { isProxyPoolName, proxyPoolTools, proxyPoolUnavailableMessage } from './proxy-pool/index.js';
import type { ToolDefinition } from './tools/define.js';
import { operationTools } from './tools/operations.js';
import { pageSnapshotTool } from './tools/page.js';

/** The operations' tools, and tools built on them (the page snapshot runs through Playwright execution). */
const kernelTools: readonly ToolDefinition[] = [...operationTools, pageSnapshotTool];
const withProxyPool: readonly ToolDefinition[] = [...kernelTools, ...proxyPoolTools];

export function allTools(config: Config): readonly ToolDefinition[] {
  return config.proxyPoolUrl ? withProxyPool : kernelTools;
}

/**
 * Why a toolset or tool name that `allTools(config)` lacks is not offered, when it exists but needs configuration
 * (for --toolsets / --tools errors); undefined when the name is simply unknown or is offered.
 */
export function unavailableReason(config: Config, name: string): string | undefined {
  if (!config.proxyPoolUrl && isProxyPoolName(name)) return proxyPoolUnavailableMessage(name);
  return undefined;
}
