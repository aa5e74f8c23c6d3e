/**
 * Stream resources: one URI template per event stream, read and subscribed through the stream hub.
 *
 * - `resources/templates/list`: the seven templates (title, description, MIME type).
 * - `resources/list`: one telemetry resource per active browser, and the event streams of running invocations,
 *   deployments in progress and login flows in progress.
 * - `completion/complete`: ids of browsers, invocations, deployments and auth connections; the logs `source`.
 * - `resources/read`: the buffered events as JSON lines, opening the stream and waiting briefly when nothing is
 *   buffered yet; never cached (`ttlMs: 0`).
 * - `resources/subscribe` / `resources/unsubscribe` (2025): held in the client's notification port.
 */
import {
  type ListResourcesResult,
  type McpServer,
  ProtocolError,
  ProtocolErrorCode,
  type ReadResourceResult,
  ResourceTemplate,
  type ServerContext,
  UriTemplate,
  type Variables,
} from '@modelcontextprotocol/server';
import type { Config } from '../config.js';
import type { KernelClient } from '../kernel/client.js';
import { KernelError } from '../kernel/errors.js';
import type { StreamParent } from '../kernel/operation.js';
import type { Logger } from '../log.js';
import { redact } from '../redact.js';
import { registerFileResources } from './files.js';
import type { StreamHub } from './hub.js';
import type { NotificationPort } from './notifications.js';
import {
  eventView,
  matchStreamUri,
  resolveStreamUri,
  STREAM_MIME_TYPE,
  STREAM_RESOURCES,
  type StreamResourceDef,
  StreamUriError,
  uriFor,
} from './streams.js';

/** What the stream resources need: the API client (listing, completion) and the stream hub. */
export interface ResourceDeps {
  client: KernelClient;
  hub: StreamHub;
  logger: Logger;
}

/** How long a read waits for a first event when nothing is buffered yet. */
export const RESOURCE_READ_WAIT_MS = 2000;
/** The cache hint of every read: stream contents change all the time. */
const NO_CACHE = { ttlMs: 0, cacheScope: 'private' as const };
/** Meta key of a read result: cursor and state of the stream. */
export const STREAM_META_KEY = 'com.onkernel/stream';

/** A URI template whose matching accepts query parameters in any order (and any subset), percent-decoded. */
class StreamUriTemplate extends UriTemplate {
  constructor(readonly def: StreamResourceDef) {
    super(def.uriTemplate);
  }

  override match(uri: string): Variables | null {
    return matchStreamUri(this.def, uri);
  }
}

const uriTemplates = new Map(STREAM_RESOURCES.map((d) => [d.name, new StreamUriTemplate(d)]));

type Item = Record<string, unknown>;

async function listItems(
  client: KernelClient,
  parent: StreamParent,
  query: Record<string, string | number>,
  signal?: AbortSignal,
): Promise<Item[]> {
  const { data } = await client.json<unknown>({
    method: 'GET',
    path: parent.path,
    query: { limit: 100, ...query },
    ...(signal ? { signal } : {}),
  });
  return Array.isArray(data) ? (data as Item[]) : [];
}

/** The live parents of a kind (scripts/policy.ts PARENTS): active browsers, running invocations, flows in progress. */
async function liveParents(client: KernelClient, parent: StreamParent, signal?: AbortSignal): Promise<Item[]> {
  const live = parent.live;
  if (!live) return listItems(client, parent, {}, signal);
  if ('query' in live) {
    const lists = await Promise.all(live.values.map((v) => listItems(client, parent, { [live.query]: v }, signal)));
    return lists.flat();
  }
  return (await listItems(client, parent, {}, signal)).filter((item) => live.values.includes(String(item[live.field])));
}

function idOf(parent: StreamParent, item: Item): string | undefined {
  const id = item[parent.idField];
  return typeof id === 'string' && id ? id : undefined;
}

function listCallback(def: StreamResourceDef, client: KernelClient, logger: Logger) {
  return async (ctx: ServerContext): Promise<ListResourcesResult> => {
    let items: Item[];
    try {
      items = await liveParents(client, def.parent, ctx.mcpReq.signal);
    } catch (err) {
      // A failing list must not break resources/list for the host: the templates still work.
      logger.warn('could not list stream resources', { resource: def.name, error: (err as Error).message });
      return { resources: [] };
    }
    const what = def.parent.what;
    const resources = [];
    for (const item of items) {
      const id = idOf(def.parent, item);
      if (!id) continue;
      resources.push({
        uri: uriFor(def, { id }),
        name: `${def.name}-${id}`,
        title: `${def.title} of ${what} ${id}`,
        description: def.description,
        mimeType: STREAM_MIME_TYPE,
      });
    }
    return { resources };
  };
}

function completeIds(client: KernelClient, parent: StreamParent, logger: Logger) {
  return async (value: string): Promise<string[]> => {
    try {
      const items = await listItems(client, parent, {});
      return items
        .map((i) => idOf(parent, i))
        .filter((id): id is string => !!id && id.startsWith(value))
        .sort();
    } catch (err) {
      logger.debug('completion failed', { kind: parent.kind, error: (err as Error).message });
      return [];
    }
  };
}

/** A protocol error an MCP client shows as it is: bad URIs and 4xx answers are the caller's to fix. */
function readError(err: unknown, uri: string): ProtocolError {
  if (err instanceof ProtocolError) return err;
  if (err instanceof StreamUriError) return new ProtocolError(ProtocolErrorCode.InvalidParams, err.message, { uri });
  if (err instanceof KernelError && err.kind === 'api' && err.status !== undefined && err.status < 500) {
    return new ProtocolError(ProtocolErrorCode.InvalidParams, err.message, { uri });
  }
  return new ProtocolError(ProtocolErrorCode.InternalError, (err as Error).message ?? String(err), { uri });
}

export interface ReadStreamResourceOptions {
  /** The most characters of JSON lines in one read (the oldest events first; `after` pages on). */
  maxChars: number;
  maxEvents: number;
  waitMs?: number;
  signal?: AbortSignal;
}

/** Reads a stream resource: the buffered events after the URI's `after` (or all) as JSON lines. */
export async function readStreamResource(
  deps: Pick<ResourceDeps, 'hub'>,
  def: StreamResourceDef,
  uri: string,
  vars: Record<string, string>,
  opts: ReadStreamResourceOptions,
): Promise<ReadResourceResult> {
  try {
    const resolved = resolveStreamUri(def, vars, uri);
    const result = await deps.hub.read(resolved.request, {
      ...(resolved.after !== undefined ? { after: resolved.after } : {}),
      maxEvents: opts.maxEvents,
      maxWaitMs: opts.waitMs ?? RESOURCE_READ_WAIT_MS,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    let text = '';
    let shown = 0;
    for (const ev of result.events) {
      // Events are the API's own text: a write-only secret it quotes (a username a login website refused, a clone
      // URL with its token) must not come back through a read any more than through a tool.
      const line = `${redact(JSON.stringify(eventView(ev, def.envelope ?? false)))}\n`;
      if (shown > 0 && text.length + line.length > opts.maxChars) break;
      text += line;
      shown++;
    }
    const last = result.events[shown - 1];
    const cursor = last ? last.seq : result.cursor;
    const more = shown < result.events.length;
    const meta: Record<string, unknown> = {
      events: shown,
      cursor: cursor === null ? null : String(cursor),
      ended: result.ended && !more,
      dropped: result.dropped,
    };
    if (more) meta.more = true;
    return {
      contents: [{ uri, mimeType: STREAM_MIME_TYPE, text }],
      _meta: { [STREAM_META_KEY]: meta },
    };
  } catch (err) {
    throw readError(err, uri);
  }
}

export function registerResources(server: McpServer, config: Config, deps: ResourceDeps, port: NotificationPort): void {
  const { client, logger } = deps;
  const maxChars = config.maxResultTokens * 4;
  registerFileResources(server, config, client);

  for (const def of STREAM_RESOURCES) {
    const uriTemplate = uriTemplates.get(def.name);
    if (!uriTemplate) continue;
    const complete: Record<string, (value: string) => Promise<string[]> | string[]> = {
      id: completeIds(client, def.parent, logger),
    };
    for (const [arg, values] of Object.entries(def.complete ?? {})) {
      complete[arg] = (value) => values.filter((v) => v.startsWith(value));
    }
    server.registerResource(
      def.name,
      new ResourceTemplate(uriTemplate, {
        list: def.listable ? listCallback(def, client, logger) : undefined,
        complete,
      }),
      { title: def.title, description: def.description, mimeType: STREAM_MIME_TYPE, cacheHint: NO_CACHE },
      (uri: URL, variables: Variables, ctx: ServerContext) =>
        readStreamResource(deps, def, uri.href, flatten(variables), {
          maxChars,
          maxEvents: config.streamBufferEvents,
          signal: ctx.mcpReq.signal,
        }),
    );
  }

  // 2025-era subscriptions: this instance's `resources/subscribe`s, held in the client's subscription set until
  // unsubscribed or the instance closes. (2026-07-28 listen streams are the transport's to add: see the port.)
  const held = new Map<string, () => void>();
  server.server.setRequestHandler('resources/subscribe', (request) => {
    const uri = request.params.uri;
    if (!held.has(uri)) {
      try {
        held.set(uri, port.subscriptions.retain([uri], true));
      } catch (err) {
        throw readError(err, uri);
      }
    }
    return {};
  });
  server.server.setRequestHandler('resources/unsubscribe', (request) => {
    held.get(request.params.uri)?.();
    held.delete(request.params.uri);
    return {};
  });
  const previous = server.server.onclose;
  server.server.onclose = () => {
    previous?.();
    for (const release of held.values()) release();
    held.clear();
  };
}

function flatten(variables: Variables): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(variables)) {
    const value = Array.isArray(v) ? v[0] : v;
    if (value !== undefined) out[k] = value;
  }
  return out;
}
