/**
 * `defineTool` is the only way a tool is made: name, title, description, annotations, a zod input schema and a
 * handler. Tool definitions are built once per process and registered on every McpServer the factory builds, so
 * their JSON Schemas are converted once (the SDK would otherwise convert per server instance, i.e. per HTTP request),
 * and by the build at that (scripts/tool-schemas.mjs): start-up lists tools without building their zod schemas.
 */
import { readFileSync } from 'node:fs';
import type { CallToolResult, McpServer, ServerContext, StandardSchemaWithJSON } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { type ViewName, viewMeta } from '../apps/links.js';
import type { Config } from '../config.js';
import type { KernelClient } from '../kernel/client.js';
import type { Logger } from '../log.js';
import type { StreamHub } from '../resources/hub.js';
import { errorResult } from './results.js';
import { unknownArgumentsHint } from './suggest.js';

export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** What a tool handler gets besides its arguments. */
export interface ToolContext {
  client: KernelClient;
  config: Config;
  logger: Logger;
  hub: StreamHub;
  /** Local file paths may be read and written (stdio); never on behalf of an HTTP client. */
  localFiles: boolean;
  signal: AbortSignal;
  /** Browser viewports seen by this server instance (to scale screen coordinates); absent: asked each time. */
  viewports?: Map<string, { width: number; height: number }>;
  /** Reports progress when the client asked for it; a no-op otherwise. */
  progress(progress: number, total?: number, message?: string): Promise<void>;
}

export interface ToolDefinition<Args extends Record<string, unknown> = Record<string, unknown>> {
  name: string;
  title: string;
  description: string;
  annotations: ToolAnnotations;
  toolset: string;
  /** Built lazily, once. */
  input: () => z.ZodType<Args>;
  handler: (args: Args, ctx: ToolContext) => Promise<CallToolResult>;
  deprecated?: boolean;
  /** The MCP App view a host shows next to this tool's result (unless --no-apps). */
  view?: ViewName;
  /** Reshapes common mistakes that have one meaning before validation (dynamic mode's misplaced arguments). */
  normalize?: (args: unknown) => unknown;
  /** Added to the error when arguments are unknown: how this tool wants them. */
  unknownArgumentsHint?: string;
}

/** Defines a tool; the result is erased to the common type so tools of any argument shape sit in one list. */
export function defineTool<Args extends Record<string, unknown>>(def: ToolDefinition<Args>): ToolDefinition {
  return def as unknown as ToolDefinition;
}

const SAFE_INT = Number.MAX_SAFE_INTEGER;

/**
 * Drops what adds bytes and no meaning for a client: `$schema`, the safe-integer bounds zod adds to ints, and the
 * regular expression zod adds beside a `format` (`format: uuid` says what the 100-character pattern says).
 */
function lean(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(lean);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  const formatted = typeof (node as { format?: unknown }).format === 'string';
  for (const [k, v] of Object.entries(node)) {
    if (k === '$schema') continue;
    if (k === 'pattern' && formatted) continue;
    // Object keys are always strings in JSON: zod records add `propertyNames: {type: string}`, which says nothing.
    if (k === 'propertyNames' && JSON.stringify(v) === '{"type":"string"}') continue;
    if ((k === 'maximum' && v === SAFE_INT) || (k === 'minimum' && v === -SAFE_INT)) continue;
    // `additionalProperties: {}` (zod's loose objects) says nothing JSON Schema does not already assume, and
    // `additionalProperties: false` is enforced by the server (an unknown argument is an error naming it), so
    // publishing it would only spend an agent's context.
    if (k === 'additionalProperties' && (v === false || (v && typeof v === 'object' && Object.keys(v).length === 0))) {
      continue;
    }
    out[k] = lean(v);
  }
  return out;
}

type StdResult = { value: unknown; issues?: undefined } | { issues: readonly StdIssue[] };
interface StdIssue {
  message: string;
  path?: readonly (PropertyKey | { key: PropertyKey })[];
  code?: string;
  keys?: string[];
}

/**
 * Validation errors that say how to recover: an unknown argument names the closest valid ones (`url` → `start_url`)
 * and lists the valid arguments; a missing one says it is required. The SDK prefixes each message with its path.
 */
function teach(result: StdResult, json: Record<string, unknown>, def: ToolDefinition): StdResult {
  if (!result.issues) return result;
  const props = Object.keys((json.properties as Record<string, unknown> | undefined) ?? {});
  return {
    issues: result.issues.map((issue) => {
      if (issue.code === 'unrecognized_keys' && !issue.path?.length && issue.keys?.length) {
        const what = issue.keys.length === 1 ? 'Unknown argument' : 'Unknown arguments';
        const extra = def.unknownArgumentsHint ? `. ${def.unknownArgumentsHint}` : '';
        return { ...issue, message: `${what}: ${unknownArgumentsHint(issue.keys, props)}${extra}` };
      }
      const first = issue.path?.length === 1 ? issue.path[0] : undefined;
      const field = first === undefined ? undefined : String(keyOf(first));
      if (def.unknownArgumentsHint && field === 'arguments') {
        return { ...issue, message: `${issue.message}. ${def.unknownArgumentsHint}` };
      }
      if (issue.code === 'invalid_format' && field) {
        const prop = (json.properties as Record<string, { description?: string; format?: string }> | undefined)?.[
          field
        ];
        if (prop?.format === 'uuid')
          return { ...issue, message: `${issue.message}: give the UUID a previous answer returned.` };
        if (prop?.description)
          return { ...issue, message: `${issue.message} (${prop.description.replace(/\.$/, '')}).` };
      }
      if (issue.code === 'invalid_type' && / received undefined$/.test(issue.message)) {
        const expected = /expected (\w+)/.exec(issue.message)?.[1];
        return { ...issue, message: `required${expected ? ` (${expected})` : ''}: give this argument.` };
      }
      return issue;
    }),
  };
}

const keyOf = (p: PropertyKey | { key: PropertyKey }) => (typeof p === 'object' && p !== null ? p.key : p);

interface Compiled {
  /** Built on first use (the first call to validate), not to list the tool. */
  readonly zod: z.ZodType<Record<string, unknown>>;
  schema: StandardSchemaWithJSON<Record<string, unknown>, Record<string, unknown>>;
  json: Record<string, unknown>;
}

/** A definition's published JSON Schema, computed from its zod schema (what the build writes ahead of time). */
export function jsonSchemaOf(def: ToolDefinition): Record<string, unknown> {
  return lean(z.toJSONSchema(def.input(), { io: 'input', unrepresentable: 'any' })) as Record<string, unknown>;
}

/** Where the build writes every tool's JSON Schema (scripts/tool-schemas.mjs), beside the built modules. */
export const PREBUILT_SCHEMAS = new URL('../generated/tool-schemas.json', import.meta.url);

type Prebuilt = Record<string, { description: string; inputSchema: Record<string, unknown> }>;
let prebuilt: Prebuilt | null | undefined;

/**
 * The JSON Schema the build computed for this definition, so listing tools at start-up builds no zod schema; only
 * for the same name and description (anything else, and runs from source, compute it here).
 */
function prebuiltJson(def: ToolDefinition): Record<string, unknown> | undefined {
  if (prebuilt === undefined) {
    try {
      prebuilt = JSON.parse(readFileSync(PREBUILT_SCHEMAS, 'utf8')) as Prebuilt;
    } catch {
      prebuilt = null;
    }
  }
  const hit = prebuilt && Object.hasOwn(prebuilt, def.name) ? prebuilt[def.name] : undefined;
  return hit && hit.description === def.description ? hit.inputSchema : undefined;
}

const compiled = new WeakMap<ToolDefinition, Compiled>();

/**
 * The zod schema and its JSON Schema, once per definition per process. The JSON Schema (all that `tools/list`
 * needs) comes from the build when it can; the zod schema is built on the first call that validates.
 */
export function compile(def: ToolDefinition): Compiled {
  let c = compiled.get(def);
  if (c) return c;
  let zod: z.ZodType<Record<string, unknown>> | undefined;
  const getZod = () => {
    zod ??= def.input();
    return zod;
  };
  const json = prebuiltJson(def) ?? jsonSchemaOf(def);
  const schema: Compiled['schema'] = {
    '~standard': {
      version: 1,
      vendor: 'kernel-mcp',
      validate: (value: unknown) => {
        const result = getZod()['~standard'].validate(def.normalize ? def.normalize(value) : value);
        return result instanceof Promise ? result.then((r) => teach(r, json, def)) : teach(result, json, def);
      },
      jsonSchema: { input: () => json, output: () => json },
    } as StandardSchemaWithJSON<Record<string, unknown>, Record<string, unknown>>['~standard'],
  };
  c = {
    get zod() {
      return getZod();
    },
    schema,
    json,
  };
  compiled.set(def, c);
  return c;
}

/** Per-server things a handler needs; the rest of ToolContext comes from the request. */
export type ToolDeps = Omit<ToolContext, 'signal' | 'progress'>;

export function makeToolContext(deps: ToolDeps, mcp: ServerContext): ToolContext {
  const token = mcp.mcpReq._meta?.progressToken;
  return {
    ...deps,
    signal: mcp.mcpReq.signal,
    progress: async (progress, total, message) => {
      if (token === undefined) return;
      try {
        await mcp.mcpReq.notify({
          method: 'notifications/progress',
          params: {
            progressToken: token,
            progress,
            ...(total !== undefined ? { total } : {}),
            ...(message ? { message } : {}),
          },
        });
      } catch {
        // A client that went away cannot be told; the call itself ends through its signal.
      }
    },
  };
}

/**
 * The annotations as published: only what differs from MCP's defaults (readOnlyHint false, destructiveHint true,
 * idempotentHint false, openWorldHint true), except that a tool that writes always states destructiveHint.
 * `{readOnlyHint: true}` alone says a tool only reads. Saves ~6 KB over the full listing.
 */
export function publishedAnnotations(a: ToolAnnotations): Partial<ToolAnnotations> {
  if (a.readOnlyHint) return { readOnlyHint: true, ...(a.openWorldHint ? {} : { openWorldHint: false }) };
  return {
    destructiveHint: a.destructiveHint,
    ...(a.idempotentHint ? { idempotentHint: true } : {}),
    ...(a.openWorldHint ? {} : { openWorldHint: false }),
  };
}

/**
 * Registers definitions on a server; a thrown error becomes an `isError` result, never a crash. `after` runs after
 * every successful call (the server uses it to announce resource-list changes).
 */
function toolMeta(def: ToolDefinition, config: Config): { _meta?: Record<string, unknown> } {
  return def.view && !config.noApps ? { _meta: viewMeta(def.view) } : {};
}

export function registerTools(
  server: McpServer,
  defs: readonly ToolDefinition[],
  deps: ToolDeps,
  after?: (def: ToolDefinition) => void,
): void {
  for (const def of defs) {
    const { schema } = compile(def);
    const handler = def.handler;
    server.registerTool(
      def.name,
      {
        title: def.title,
        description: def.description,
        inputSchema: schema,
        annotations: publishedAnnotations(def.annotations),
        ...toolMeta(def, deps.config),
      },
      async (args: Record<string, unknown>, mcp: ServerContext) => {
        try {
          const result = await handler(args, makeToolContext(deps, mcp));
          if (!result.isError) after?.(def);
          return result;
        } catch (err) {
          deps.logger.debug('tool failed', { tool: def.name, error: (err as Error).message });
          return errorResult(err);
        }
      },
    );
  }
}
