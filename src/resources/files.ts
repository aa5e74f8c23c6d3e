/**
 * Links that resolve: the URIs the server puts in binary answers can be read back with `resources/read`.
 *
 * - `kernel://browsers/{id}/files/{+path}`: a file on a browser's filesystem (GET /browsers/{id}/fs/read_file).
 *   `browsers_fs_read_file` answers with this URI; two files with one name in different folders or browsers differ.
 * - `kernel://api/{+path}`: the answer of a GET operation that returns bytes (a replay, a directory zip, a profile,
 *   an extension), at its API path and query, e.g. `kernel://api/browsers/abc/fs/download_dir_zip?path=%2Ftmp`.
 *
 * A read answers text when the bytes are UTF-8, else a base64 blob; never cached.
 */
import {
  type McpServer,
  ProtocolError,
  ProtocolErrorCode,
  type ReadResourceResult,
  ResourceTemplate,
  type ServerContext,
  type Variables,
} from '@modelcontextprotocol/server';
import type { Config } from '../config.js';
import { operations } from '../generated/kernel-operations.gen.js';
import type { KernelClient } from '../kernel/client.js';
import { KernelError } from '../kernel/errors.js';
import type { OperationRow } from '../kernel/operation.js';
import { utf8Text } from '../kernel/text.js';
import { redact, redactBytes } from '../redact.js';

const NO_CACHE = { ttlMs: 0, cacheScope: 'private' as const };
/** The largest file a read returns (base64 in a JSON-RPC message). */
const MAX_READ_BYTES = 32 * 1024 * 1024;

/** Encodes each segment of an absolute path, keeping its slashes. */
const encodePath = (path: string) => path.split('/').map(encodeURIComponent).join('/');

/** The resource URI of a file on a browser. */
export function browserFileUri(id: string, path: string): string {
  const abs = path.startsWith('/') ? path : `/${path}`;
  return `kernel://browsers/${encodeURIComponent(id)}/files${encodePath(abs)}`;
}

/** The resource URI of a GET operation's bytes: its API path and query. */
export function apiUri(path: string, query?: Record<string, unknown>): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) qs.set(k, String(v));
  const q = qs.toString();
  return `kernel://api${path}${q ? `?${q}` : ''}`;
}

/** GET operations whose answer is bytes: what `kernel://api/...` may read. */
const BINARY_GETS = operations.filter((r) => r.method === 'GET' && r.answer.kind === 'binary');

function matchRow(path: string): { row: OperationRow; params: Record<string, string> } | undefined {
  const parts = path.split('/').slice(1);
  for (const row of BINARY_GETS) {
    const tpl = row.path.split('/').slice(1);
    if (tpl.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < tpl.length && ok; i++) {
      const name = /^\{(\w+)\}$/.exec(tpl[i]!)?.[1];
      if (name) {
        try {
          params[name] = decodeURIComponent(parts[i]!);
        } catch {
          ok = false;
        }
        if (!params[name]) ok = false;
      } else ok = tpl[i] === parts[i];
    }
    if (ok) return { row, params };
  }
  return undefined;
}

function invalid(message: string, uri: string): ProtocolError {
  return new ProtocolError(ProtocolErrorCode.InvalidParams, message, { uri });
}

async function readBytes(
  client: KernelClient,
  uri: string,
  path: string,
  query: Record<string, string>,
  signal: AbortSignal,
): Promise<ReadResourceResult> {
  let res: Awaited<ReturnType<KernelClient['request']>>;
  try {
    res = await client.request({ method: 'GET', path, query, signal });
  } catch (err) {
    if (err instanceof KernelError && err.status !== undefined && err.status < 500) throw invalid(err.message, uri);
    throw new ProtocolError(ProtocolErrorCode.InternalError, (err as Error).message, { uri });
  }
  const bytes = res.body;
  if (bytes.byteLength > MAX_READ_BYTES) {
    throw invalid(`${uri} is ${bytes.byteLength} bytes, over the ${MAX_READ_BYTES}-byte read limit.`, uri);
  }
  const mime = (res.contentType ?? 'application/octet-stream').split(';')[0]!.trim();
  const text = utf8Text(bytes);
  if (text !== undefined) {
    const textMime = mime === 'application/octet-stream' ? 'text/plain' : mime;
    return { contents: [{ uri, mimeType: textMime, text: redact(text) }] };
  }
  // Not text: the process's own keys are replaced in the bytes, as in a tool's binary answer.
  return { contents: [{ uri, mimeType: mime, blob: redactBytes(bytes).toString('base64') }] };
}

const flat = (v: string | string[] | undefined): string => (Array.isArray(v) ? (v[0] ?? '') : (v ?? ''));

export function registerFileResources(server: McpServer, _config: Config, client: KernelClient): void {
  server.registerResource(
    'browser-files',
    new ResourceTemplate('kernel://browsers/{id}/files/{+path}', { list: undefined }),
    {
      title: 'Browser file',
      description:
        "A file on a browser's filesystem (browsers_fs_read_file answers with this URI), as text or a base64 blob.",
      cacheHint: NO_CACHE,
    },
    async (uri: URL, variables: Variables, ctx: ServerContext) => {
      const id = flat(variables.id);
      let path: string;
      try {
        path = `/${decodeURIComponent(flat(variables.path))}`.replace(/^\/+/, '/');
      } catch {
        throw invalid(`${uri.href}: the path is not valid percent-encoding.`, uri.href);
      }
      if (!id || path === '/') throw invalid(`${uri.href}: give a browser id and a file path.`, uri.href);
      return readBytes(
        client,
        uri.href,
        `/browsers/${encodeURIComponent(id)}/fs/read_file`,
        { path },
        ctx.mcpReq.signal,
      );
    },
  );
  server.registerResource(
    'api-download',
    new ResourceTemplate('kernel://api/{+path}', { list: undefined }),
    {
      title: 'Kernel API download',
      description:
        'The bytes a GET operation answers (a replay, a directory zip, a profile, an extension), at its API path.',
      cacheHint: NO_CACHE,
    },
    async (uri: URL, _variables: Variables, ctx: ServerContext) => {
      const apiPath = uri.host === 'api' ? uri.pathname : '';
      const hit = matchRow(apiPath);
      if (!hit) {
        const routes = BINARY_GETS.map((r) => r.path).join(', ');
        throw invalid(`${uri.href} names no download. kernel://api/ reads: ${routes}`, uri.href);
      }
      const query: Record<string, string> = {};
      for (const [k, v] of uri.searchParams) {
        if (!hit.row.params.query.includes(k)) throw invalid(`${uri.href}: unknown query parameter "${k}".`, uri.href);
        query[k] = v;
      }
      const parsed = hit.row.input().safeParse({ ...hit.params, ...query });
      if (!parsed.success) {
        throw invalid(
          `${uri.href}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
          uri.href,
        );
      }
      const expanded = hit.row.path.replace(/\{(\w+)\}/g, (_m, n: string) => encodeURIComponent(hit.params[n] ?? ''));
      return readBytes(client, uri.href, expanded, query, ctx.mcpReq.signal);
    },
  );
}
