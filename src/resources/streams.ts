/**
 * The seven stream resources: their URI templates, how a URI maps to the API request of its event-stream operation,
 * and how a buffered event is shown (the same shape in a resource read's JSON lines and in a stream tool's result).
 */
import { operations } from '../generated/kernel-operations.gen.js';
import type { OperationRow } from '../kernel/operation.js';
import type { StreamEvent, StreamRequest } from './hub.js';

export const STREAM_SCHEME = 'kernel:';
/** JSON lines: one event per line. */
export const STREAM_MIME_TYPE = 'application/x-ndjson';

/** The kind of parent the API can list, for the template's list callback and its `id` completions. */
export type ParentKind = 'browsers' | 'invocations' | 'deployments' | 'auth_connections';

export interface StreamResourceDef {
  /** Registration name (unique). */
  name: string;
  operationId: string;
  /** The URI template clients see. */
  uriTemplate: string;
  /** Path segments after `kernel://`: literals, or `{name}` for a variable (the operation's path parameter). */
  segments: readonly string[];
  /** Query parameters the URI may carry (besides `after`); they become the operation's query parameters. */
  query: readonly string[];
  title: string;
  description: string;
  /** Telemetry: the event data is already a `{seq, event}` envelope and is shown as it is. */
  envelope?: boolean;
  /** What the `{id}` variable names: the list callback lists these, and `id` completes from them. */
  parent: ParentKind;
  /** Whether the list callback lists one resource per live parent (only where the URI needs nothing else). */
  listable: boolean;
}

const AFTER_HINT = ' Append `?after=<seq>` (`&after=` after other parameters) to read only events after a sequence id.';

export const STREAM_RESOURCES: readonly StreamResourceDef[] = [
  {
    name: 'browser-telemetry',
    operationId: 'streamBrowserTelemetry',
    uriTemplate: 'kernel://browsers/{id}/telemetry',
    segments: ['browsers', '{id}', 'telemetry'],
    query: [],
    title: 'Browser telemetry',
    description:
      'Live telemetry events of a browser session (navigation, console, network, ... when the session was created with telemetry enabled), as JSON lines of `{seq, event}` envelopes. Subscribe to be told when new events arrive.' +
      AFTER_HINT,
    envelope: true,
    parent: 'browsers',
    listable: true,
  },
  {
    name: 'browser-logs',
    operationId: 'logsStream',
    uriTemplate: 'kernel://browsers/{id}/logs{?source,path,supervisor_process}',
    segments: ['browsers', '{id}', 'logs'],
    query: ['source', 'path', 'supervisor_process'],
    title: 'Browser log file',
    description:
      'Lines of a log file on the browser instance, followed live, as JSON lines of `{seq, data}`. `source=path&path=/abs/file` for a file, or `source=supervisor&supervisor_process=<name>` for a supervised process.' +
      AFTER_HINT,
    parent: 'browsers',
    listable: false,
  },
  {
    name: 'browser-process-output',
    operationId: 'processStdoutStream',
    uriTemplate: 'kernel://browsers/{id}/processes/{process_id}/output',
    segments: ['browsers', '{id}', 'processes', '{process_id}', 'output'],
    query: [],
    title: 'Process output',
    description:
      'stdout/stderr chunks (base64 in `data_b64`) and the exit event of a process spawned on the browser (browsers_process_spawn), as JSON lines of `{seq, data}`.' +
      AFTER_HINT,
    parent: 'browsers',
    listable: false,
  },
  {
    name: 'browser-fs-watch-events',
    operationId: 'streamFsEvents',
    uriTemplate: 'kernel://browsers/{id}/fs/watches/{watch_id}/events',
    segments: ['browsers', '{id}', 'fs', 'watches', '{watch_id}', 'events'],
    query: [],
    title: 'Filesystem watch events',
    description:
      'CREATE/WRITE/DELETE/RENAME events of a filesystem watch on the browser (started with browsers_fs_watch_start), as JSON lines of `{seq, data}`.' +
      AFTER_HINT,
    parent: 'browsers',
    listable: false,
  },
  {
    name: 'invocation-events',
    operationId: 'getInvocationsEventsById',
    uriTemplate: 'kernel://invocations/{id}/events',
    segments: ['invocations', '{id}', 'events'],
    query: [],
    title: 'Invocation events',
    description:
      'Logs and state changes of an action invocation until it finishes, as JSON lines of `{seq, data}`.' + AFTER_HINT,
    parent: 'invocations',
    listable: true,
  },
  {
    name: 'deployment-events',
    operationId: 'getDeploymentsEventsById',
    uriTemplate: 'kernel://deployments/{id}/events',
    segments: ['deployments', '{id}', 'events'],
    query: [],
    title: 'Deployment events',
    description:
      'Build logs and state changes of an app deployment until it finishes, as JSON lines of `{seq, data}`.' +
      AFTER_HINT,
    parent: 'deployments',
    listable: true,
  },
  {
    name: 'auth-connection-events',
    operationId: 'getAuthConnectionsEventsById',
    uriTemplate: 'kernel://auth/connections/{id}/events',
    segments: ['auth', 'connections', '{id}', 'events'],
    query: [],
    title: 'Managed auth login flow events',
    description:
      'State updates of the login flow of a managed auth connection until it succeeds, fails, expires or is canceled, as JSON lines of `{seq, data}`.' +
      AFTER_HINT,
    parent: 'auth_connections',
    listable: true,
  },
];

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
  const path = row.path.replace(/\{([^}]+)\}/g, (_m, name: string) => encodeURIComponent(String(valid[name])));
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
  return { seq: ev.seq, ...(ev.type ? { type: ev.type } : {}), data: ev.data };
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
