/**
 * The shape of one row of the generated operation table (src/generated/kernel-operations.gen.ts), and the small
 * runtime helpers the generated zod schemas call.
 */
import type { z } from 'zod';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface OperationAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

export interface OperationRow {
  operationId: string;
  /** MCP tool name: snake_case of the Kernel SDK call, at most 40 characters. */
  name: string;
  title: string;
  description: string;
  method: HttpMethod | string;
  /** Path template, e.g. `/browsers/{id}/computer/click_mouse`. */
  path: string;
  /** The spec tag. */
  tag: string;
  toolset: string;
  deprecated: boolean;
  hidden: boolean;
  /** For deprecated operations: the tool that replaces it. */
  replacement?: string;
  annotations: OperationAnnotations;
  /** Argument names by where they go. Header arguments map argument name -> header name. */
  params: { path: string[]; query: string[]; header: Record<string, string> };
  /**
   * The request body: `json` (fields are top-level arguments), `binary` (the `content` argument is the whole body),
   * `multipart` (fields become form parts), or `none`. `binary` lists fields that carry bytes (base64 or `_path`).
   */
  body: { kind: 'none' | 'json' | 'binary' | 'multipart'; mediaType?: string; fields: string[]; binary: string[] };
  /** The success answer: JSON (`list` when it is an array paged by headers), bytes, an event stream, or nothing. */
  answer: { kind: 'json' | 'binary' | 'stream' | 'empty'; mediaType?: string; list: boolean };
  // From scripts/policy.ts (reviewed by hand; the spec cannot say these):
  /** Request fields (dotted paths into the body) holding write-only secrets, registered with the redactor. */
  secrets?: readonly string[];
  /** A success creates or ends a live resource that resources/list shows. */
  listChanging?: true;
  /** Set in the default toolsets: whether the default set lists the tool (false: left out for the context budget). */
  inDefaultSet?: boolean;
  /** An event stream shown as a `kernel://` resource. */
  stream?: StreamResourceRow;
  /** The MCP App view a host shows next to this tool's result (src/apps/). */
  view?: 'browser' | 'login';
  /** Screen space: arguments hold coordinates, the answer is a position, or the browser's viewport changes. */
  screen?: 'coordinates' | 'position' | 'viewport';
  /** The answer is a screenshot (scaled), a command's output (decoded) or a browser file (addressed by its path). */
  shape?: 'screenshot' | 'exec' | 'file';
  /** Builds the zod input schema (lazily, so start-up does not pay for 133 schemas). */
  input: () => z.ZodType<Record<string, unknown>>;
}

/** What a stream resource's `{id}` names, and how the live ones are listed (for resources/list and completion). */
export interface StreamParent {
  kind: string;
  /** The list route (GET, a JSON array). */
  path: string;
  /** The field of a listed item that holds the id. */
  idField: string;
  /** The word for one, in resource titles. */
  what: string;
  /** `query`: list once per value of that query parameter; `field`: keep items whose field has one of the values. */
  live?: { query: string; values: readonly string[] } | { field: string; values: readonly string[] };
}

export interface StreamResourceRow {
  /** Registration name (unique). */
  name: string;
  /** The URI template clients see. */
  uriTemplate: string;
  /** Path segments after `kernel://`: literals, or `{name}` for a variable (the operation's path parameter). */
  segments: readonly string[];
  /** Query parameters the URI may carry (besides `after`); they become the operation's query parameters. */
  query: readonly string[];
  /** Query parameters with a fixed set of values (the spec's enum): `completion/complete` offers them. */
  complete?: Readonly<Record<string, readonly string[]>>;
  title: string;
  description: string;
  /** Telemetry: the event data is already a `{seq, event}` envelope and is shown as it is. */
  envelope: boolean;
  parent: StreamParent;
  /** Whether the list callback lists one resource per live parent (only where the URI needs nothing else). */
  listable: boolean;
  /** The stream tool's filter: event `types` (telemetry) or process `output` (stdout/stderr). */
  filter?: 'types' | 'output';
}

/**
 * A refinement: exactly one of the alternatives is given. Each alternative lists fields that must all be present;
 * `a|b` inside an alternative means either field (a binary field and its `_path` twin).
 */
export function exactlyOneOf(alternatives: string[][]) {
  const present = (value: Record<string, unknown>, field: string) =>
    field.split('|').some((f) => value[f] !== undefined && value[f] !== null);
  return (value: Record<string, unknown>, ctx: z.RefinementCtx) => {
    const satisfied = alternatives.filter((alt) => alt.every((f) => present(value, f)));
    if (satisfied.length === 1) return;
    const options = alternatives.map((alt) => alt.map((f) => f.replace('|', ' or ')).join(' + ')).join('; or ');
    ctx.addIssue({
      code: 'custom',
      message:
        satisfied.length === 0
          ? `give exactly one of: ${options}`
          : `give only one of: ${options} (got ${satisfied.length})`,
      path: [],
    });
  };
}
