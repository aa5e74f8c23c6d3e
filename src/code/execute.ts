/**
 * Code mode (`--code-mode`): `kernel_execute` runs agent-written JavaScript in the sandbox against a `kernel` object
 * whose functions are the enabled operations, grouped like the official SDK (`kernel.browsers.create`). Each call
 * goes through the operation's own tool: its zod validation, the one client (retries, redaction) and its answer
 * shaping; only the code's final value, its console and the images it shows come back to the model.
 */
import type { CallToolResult } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { compile, defineTool, type ToolAnnotations, type ToolContext, type ToolDefinition } from '../tools/define.js';
import { charsForTokens, errorResult, jsonResult } from '../tools/results.js';
import { type HostValue, OperationError, runSandbox, type SandboxLimits, type SandboxResult } from './sandbox.js';
import { sdkPathOf } from './signatures.js';

export const EXECUTE_TOOL = 'kernel_execute';

/** Defaults: under two minutes so clients keep the call in the foreground. */
export const CODE_LIMITS: SandboxLimits = {
  timeoutMs: 90_000,
  memoryBytes: 64 * 1024 * 1024,
  maxOperations: 200,
  maxConsoleChars: 8_000,
  maxSleepMs: 30_000,
};
const MAX_TIMEOUT_SECONDS = 110;

/** The `kernel` functions: each operation's SDK path, and the tool behind it. */
export function codeOperations(enabled: readonly ToolDefinition[]): Map<string, ToolDefinition> {
  return new Map(enabled.map((d) => [sdkPathOf(d.name), d]));
}

function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || '(arguments)'}: ${i.message}`).join('; ');
}

/** A tool result as the sandbox sees it: JSON, or bytes for images and files; an error result throws. */
function toHostValue(result: CallToolResult): HostValue {
  const text = result.content.find((c) => c.type === 'text')?.text;
  if (result.isError) throw new OperationError(text ?? 'the operation failed');
  for (const c of result.content) {
    if (c.type === 'image') return { bytes: Buffer.from(c.data, 'base64'), mediaType: c.mimeType };
    if (c.type === 'resource') {
      const r = c.resource as { blob?: string; text?: string; mimeType?: string };
      const bytes = r.blob !== undefined ? Buffer.from(r.blob, 'base64') : Buffer.from(r.text ?? '', 'utf8');
      return { bytes, mediaType: r.mimeType ?? 'application/octet-stream' };
    }
  }
  if (result.structuredContent) return { json: result.structuredContent };
  const link = result.content.find((c) => c.type === 'resource_link');
  if (link) return { json: { resource_link: link, note: text } };
  return { json: text === undefined ? null : { text } };
}

function annotationsFor(ops: readonly ToolDefinition[]): ToolAnnotations {
  return {
    readOnlyHint: ops.length > 0 && ops.every((o) => o.annotations.readOnlyHint),
    destructiveHint: ops.some((o) => o.annotations.destructiveHint),
    idempotentHint: false,
    openWorldHint: true,
  };
}

function answer(run: SandboxResult, ctx: ToolContext): CallToolResult {
  const maxChars = charsForTokens(ctx.config.maxResultTokens);
  const ran = run.operations.map((o) => (o.ok ? o.path : `${o.path} (failed)`));
  const consoleLines = run.consoleDropped
    ? [...run.console, `(${run.consoleDropped} more console lines dropped)`]
    : run.console;
  const images = run.shown.map((s) => ({
    type: 'image' as const,
    data: Buffer.from(s.bytes).toString('base64'),
    mimeType: s.mediaType,
  }));
  if (!run.ok) {
    const where = run.error?.line ? ` (line ${run.error.line} of your code)` : '';
    const limit = run.error?.limit ? ` [limit: ${run.error.limit}]` : '';
    const lines = [
      `Code failed${where}: ${run.error?.message ?? 'unknown error'}${limit}`,
      `Operations run (${ran.length}): ${ran.join(', ') || 'none'}`,
      ...(consoleLines.length ? ['Console:', ...consoleLines] : []),
    ];
    const failed = errorResult(new Error(lines.join('\n')));
    return { ...failed, content: [...failed.content, ...images] };
  }
  const result = jsonResult(
    { result: run.value ?? null, ...(consoleLines.length ? { console: consoleLines } : {}), operations: ran.length },
    maxChars,
  );
  return { ...result, content: [...result.content, ...images] };
}

/** `kernel_execute` over the enabled operations. */
export function executeTool(enabled: readonly ToolDefinition[]): ToolDefinition {
  const ops = codeOperations(enabled);
  const paths = [...ops.keys()].sort();
  return defineTool({
    name: EXECUTE_TOOL,
    title: 'Run code against the Kernel API',
    description:
      'Run JavaScript (an async function body; `return` a JSON value) in a sandbox with `kernel`, the whole enabled ' +
      'Kernel API as async functions (`await kernel.browsers.create({headless: true})`); find them with ' +
      'kernel_search_operations, signatures with kernel_describe_operation. Errors throw; clean up in `finally`. ' +
      '`kernel.show(await kernel.browsers.computer.captureScreenshot({id}))` returns an image; `kernel.text(bytes)` ' +
      'decodes files. No network, require or timers (use `await kernel.sleep(ms)`).',
    annotations: annotationsFor(enabled),
    toolset: 'code',
    input: () =>
      z.strictObject({
        code: z.string().min(1).max(100_000).describe('The body of an async function; `return` the answer.'),
        timeout_seconds: z
          .number()
          .min(1)
          .max(MAX_TIMEOUT_SECONDS)
          .describe(`Wall-clock limit (default ${CODE_LIMITS.timeoutMs / 1000}).`)
          .optional(),
      }),
    handler: async (args, ctx) => {
      const { code, timeout_seconds } = args as { code: string; timeout_seconds?: number };
      const limits = { ...CODE_LIMITS, ...(timeout_seconds ? { timeoutMs: timeout_seconds * 1000 } : {}) };
      const run = await runSandbox(code, {
        operations: paths,
        limits,
        signal: ctx.signal,
        call: async (path, callArgs, signal) => {
          const def = ops.get(path) as ToolDefinition;
          const parsed = await compile(def).zod.safeParseAsync(callArgs ?? {});
          if (!parsed.success) {
            throw new OperationError(
              `invalid arguments for kernel.${path} (${def.name}): ${formatIssues(parsed.error)}. Nothing was sent.`,
            );
          }
          ctx.logger.debug('code mode operation', { operation: def.name });
          return toHostValue(await def.handler(parsed.data, { ...ctx, signal }));
        },
      });
      return answer(run, ctx);
    },
  });
}
