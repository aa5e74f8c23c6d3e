/**
 * Running a tool's handler in process where it must not reach the API (dynamic mode's meta-tools, validation
 * failures): any use of the client or the stream hub fails the test.
 */
import type { CallToolResult } from '@modelcontextprotocol/server';
import { makeConfig } from '../../src/config.js';
import type { ToolContext, ToolDefinition } from '../../src/tools/define.js';

export function offlineContext(): ToolContext {
  const forbidden = new Proxy(
    {},
    {
      get: (_t, prop) => {
        throw new Error(`the client was used (${String(prop)})`);
      },
    },
  );
  return {
    client: forbidden as ToolContext['client'],
    hub: forbidden as ToolContext['hub'],
    config: makeConfig(),
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    localFiles: false,
    signal: new AbortController().signal,
    progress: async () => {},
  };
}

export const byName = (tools: ToolDefinition[], name: string) => tools.find((t) => t.name === name)!;
export const runOffline = (tool: ToolDefinition, args: Record<string, unknown>) => tool.handler(args, offlineContext());
export const textOf = (r: CallToolResult) => (r.content[0] as { text: string }).text;
