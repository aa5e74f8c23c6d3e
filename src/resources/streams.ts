/**
 * The stream resources (the rows with a `stream` policy): their URI templates, how a URI maps to the API request of its event-stream operation,
 * and how a buffered event is shown (the same shape in a resource read's JSON lines and in a stream tool's result).
 */
import { operations } from '../generated/kernel-operations.gen.js';
import type { OperationRow, StreamResourceRow } from '../kernel/operation.js';
import { expandPathTemplate } from '../kernel/paths.js';
import { decodeB64Fields } from '../kernel/text.js';
import type { StreamEvent, StreamRequest } from './hub.js';

export const STREAM_SCHEME = 'kernel:';
/** JSON lines: one event per line. */
export const STREAM_MIME_TYPE = 'application/x-ndjson';

/** A stream resource: its row's `stream` policy (scripts/policy.ts) and the operation it reads. */
export interface StreamResourceDef extends StreamResourceRow {
  operationId: string;
}

/** Every stream resource, in the operation table's order. */
export const STREAM_RESOURCES: readonly StreamResourceDef[] = operations.flatMap((r) =>
  r.stream ? [{ ...r.stream, operationId: r.operationId }] : [],
);

const rowsById = new Map(operations.map((r) => [r.operationId, r]));

export function rowOf(def: StreamResourceDef): OperationRow {
  const row = rowsById.get(def.operationId);
  if (!row) throw new Error(`no operation ${def.operationId} in the operation table`);
  return row;
}

const defsByOperation = new Map(STREAM_RESOURCES.map((d) => [d.operationId, d]));

/** The resource definition of a stream operation, if it has one. */
export function defForOperation(operationId: string): StreamResourceDef | undefined {
  return defsByOperation.get(operationId);
}

export interface ParsedStreamUri {
  def: StreamResourceDef;
  /** Path variables and query parameters, decoded. */
  vars: Record<string, string>;
}

/** Matches a URI against one definition: its path exactly; any query (checked later by `resolveStreamUri`). */
export function matchStreamUri(def: StreamResourceDef, uri: string): Record<string, string> | null {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return null;
  }
  if (url.protocol !== STREAM_SCHEME || url.hash) return null;
  const parts = [url.host, ...url.pathname.split('/').slice(1)];
  if (parts.length !== def.segments.length) return null;
  const vars: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const pattern = def.segments[i] ?? '';
    let value: string;
    try {
      value = decodeURIComponent(parts[i] ?? '');
    } catch {
      return null;
    }
    const name = /^\{(\w+)\}$/.exec(pattern)?.[1];
    if (name) {
      if (!value) return null;
      vars[name] = value;
    } else if (value !== pattern) {
      return null;
    }
  }
  for (const [k, v] of url.searchParams) vars[k] = v;
  return vars;
}

export function parseStreamUri(uri: string): ParsedStreamUri | null {
  for (const def of STREAM_RESOURCES) {
    const vars = matchStreamUri(def, uri);
    if (vars) return { def, vars };
  }
  return null;
}

export class StreamUriError extends Error {
  override name = 'StreamUriError';
}

export interface ResolvedStream {
  def: StreamResourceDef;
  row: OperationRow;
  request: StreamRequest;
  /** The `after` cursor the URI carried. */
  after?: number;
}

/** A URI's request: checks the variables against the operation's input schema, so bad URIs fail before any request. */
export function resolveStreamUri(def: StreamResourceDef, vars: Record<string, string>, uri: string): ResolvedStream {
  const row = rowOf(def);
  const args: Record<string, unknown> = {};
  let after: number | undefined;
  for (const [k, v] of Object.entries(vars)) {
    if (k === 'after') {
      if (!/^\d+$/.test(v)) throw new StreamUriError(`${uri}: after must be a sequence id (a number), got "${v}"`);
      after = Number(v);
      continue;
    }
    const isPathVar = def.segments.includes(`{${k}}`);
    if (!isPathVar && !def.query.includes(k)) {
      const allowed = [...def.query, 'after'].join(', ');
      throw new StreamUriError(`${uri}: unknown query parameter "${k}" (this resource takes: ${allowed})`);
    }
    args[k] = v;
  }
  const parsed = row.input().safeParse(args);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `${i.path.length ? i.path.join('.') : 'uri'}: ${i.message}`)
      .join('; ');
    throw new StreamUriError(
      `${uri} is not a valid ${def.title.toLowerCase()} URI (${problems}). Template: ${def.uriTemplate}`,
    );
  }
  const valid = parsed.data;
  let path: string;
  try {
    path = expandPathTemplate(row.path, valid);
  } catch (err) {
    throw new StreamUriError(`${uri}: ${(err as Error).message}`);
  }
  const query: Record<string, string> = {};
  for (const q of def.query) if (typeof valid[q] === 'string') query[q] = valid[q] as string;
  return {
    def,
    row,
    request: { path, ...(Object.keys(query).length ? { query } : {}) },
    ...(after !== undefined ? { after } : {}),
  };
}

/** Parses and resolves any stream resource URI; throws StreamUriError when it is not one. */
export function resolveAnyStreamUri(uri: string): ResolvedStream {
  const parsed = parseStreamUri(uri);
  if (!parsed) {
    const templates = STREAM_RESOURCES.map((d) => d.uriTemplate).join(', ');
    throw new StreamUriError(`${uri} is not a Kernel stream resource. Stream resources: ${templates}`);
  }
  return resolveStreamUri(parsed.def, parsed.vars, uri);
}

function isEnvelope(data: unknown): data is { seq: number; event: unknown } {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return false;
  const keys = Object.keys(data);
  return keys.length === 2 && typeof (data as { seq?: unknown }).seq === 'number' && keys.includes('event');
}

/**
 * How one event is shown to a client: telemetry keeps its `{seq, event}` envelope; other streams show
 * `{seq, data}` (plus `type` when the upstream names its SSE events). `seq` is what a cursor (`after`) refers to.
 */
export function eventView(ev: StreamEvent, envelope: boolean): Record<string, unknown> {
  if (envelope) return isEnvelope(ev.data) ? ev.data : { seq: ev.seq, event: ev.data };
  return { seq: ev.seq, ...(ev.type ? { type: ev.type } : {}), data: decodeB64Fields(ev.data) };
}

/** The view for a stream operation's events (used by the stream tools). */
export function eventViewFor(operationId: string): (ev: StreamEvent) => Record<string, unknown> {
  const envelope = defForOperation(operationId)?.envelope ?? false;
  return (ev) => eventView(ev, envelope);
}

/** The URI of a listable resource for a parent id. */
export function uriFor(def: StreamResourceDef, vars: Record<string, string>): string {
  return `kernel://${def.segments
    .map((s) => {
      const name = /^\{(\w+)\}$/.exec(s)?.[1];
      return name ? encodeURIComponent(vars[name] ?? '') : s;
    })
    .join('/')}`;
}
