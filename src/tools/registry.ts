/**
 * Every tool the process can offer, before selection: the Kernel API operations, plus tool providers that need
 * configuration (the proxy-pool service, when its URL is set).
 */
import type { Config } from '../config.js';
import type { ToolDefinition } from './define.js';
import { operationTools } from './operations.js';

export function allTools(_config: Config): readonly ToolDefinition[] {
  return operationTools;
}
