/** The code-mode tool list: search and describe (answering code calls and TypeScript signatures), and kernel_execute. */
import type { ToolDefinition } from '../tools/define.js';
import { dynamicTools } from '../tools/dynamic.js';
import { EXECUTE_TOOL, executeTool } from './execute.js';
import { fullSignature, shortSignature } from './signatures.js';

export function codeModeTools(enabled: readonly ToolDefinition[]): ToolDefinition[] {
  const view = { executeTool: EXECUTE_TOOL, call: shortSignature, signature: fullSignature };
  return [...dynamicTools(enabled, view), executeTool(enabled)];
}
