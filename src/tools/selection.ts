/**
 * Decides which tools a server exposes, from the configuration. Deprecated operations are listed only with
 * --include-deprecated. (Toolsets, --read-only and tool include/exclude lists build on this.)
 */
import type { Config } from '../config.js';
import type { ToolDefinition } from './define.js';
import { allTools } from './registry.js';

export class SelectionError extends Error {
  override name = 'SelectionError';
}

export interface Selection {
  tools: readonly ToolDefinition[];
}

export function selectTools(config: Config, all: readonly ToolDefinition[] = allTools(config)): Selection {
  const tools = all.filter((t) => config.includeDeprecated || !t.deprecated);
  return { tools };
}
