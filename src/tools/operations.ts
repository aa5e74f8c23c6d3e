/**
 * Turns each row of the generated operation table into a tool: arguments become the path, query, headers and body
 * of one request through the KernelClient, and the answer is shaped by results.ts. Event-stream operations read
 * through the stream hub from a cursor instead.
 */
import { basename } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/server';
import type { z } from 'zod';
import { operations } from '../generated/kernel-operations.gen.js';
import type { KernelRequest, QueryValue } from '../kernel/client.js';
import { KernelError } from '../kernel/errors.js';
import type { OperationRow } from '../kernel/operation.js';
import { expandPathTemplate } from '../kernel/paths.js';
import { decodeB64Fields, execView, mayHoldB64Fields } from '../kernel/text.js';
import { addSecret, redact } from '../redact.js';
import { apiUri, browserFileUri } from '../resources/files.js';
import { buildForm, readBinary } from './binary.js';
import { defineTool, type ToolContext, type ToolDefinition } from './define.js';
import {
  binaryResult,
  charsForTokens,
  emptyResult,
  fileResult,
  HARD_INLINE_MAX,
  IMAGE_INLINE_MAX,
  jsonResult,
  listResult,
  outputFile,
} from './results.js';
import {
  coordinateLine,
  forgetViewport,
  positionToScreenshot,
  screenshotArgs,
  screenshotResult,
  toViewport,
  usesCoordinates,
} from './screen.js';
import { filterArgsFor, readStream, streamArgs } from './stream-read.js';

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Every string at or under a value (a secret-holding object's values, an array's items). */
function addSecrets(value: unknown) {
  if (typeof value === 'string') addSecret(value);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) addSecrets(v);
}

/**
 * Registers the row's write-only secrets (scripts/policy.ts: dotted paths into the arguments, through arrays) with
 * the redactor before the request is sent.
 */
function registerSecrets(row: OperationRow, args: Record<string, unknown>) {
  const at = (value: unknown, path: string[]): void => {
    if (Array.isArray(value)) for (const v of value) at(v, path);
    else if (path.length === 0) addSecrets(value);
    else if (value && typeof value === 'object') at((value as Record<string, unknown>)[path[0]!], path.slice(1));
  };
  for (const path of row.secrets ?? []) at(args, path.split('.'));
}

export function expandPath(row: OperationRow, args: Record<string, unknown>): string {
  return expandPathTemplate(row.path, args);
}

/** The request for a row and validated arguments (without a body for streams). */
export async function buildRequest(
  row: OperationRow,
  args: Record<string, unknown>,
  localFiles: boolean,
): Promise<KernelRequest> {
  const req: KernelRequest = { method: row.method, path: expandPath(row, args) };
  const query: Record<string, QueryValue> = {};
  for (const q of row.params.query) if (args[q] !== undefined) query[q] = args[q] as QueryValue;
  if (Object.keys(query).length) req.query = query;
  const headers: Record<string, string> = {};
  for (const [arg, name] of Object.entries(row.params.header)) {
    if (args[arg] !== undefined) headers[name] = String(args[arg]);
  }
  if (Object.keys(headers).length) req.headers = headers;
  switch (row.body.kind) {
    case 'json': {
      const body: Record<string, unknown> = {};
      for (const f of row.body.fields) if (args[f] !== undefined) body[f] = args[f];
      registerSecrets(row, body);
      // An optional body with nothing in it is still sent as {} (the API expects JSON for these routes).
      req.json = body;
      break;
    }
    case 'binary': {
      const bin = await readBinary(args, 'content', 'content', localFiles);
      req.bytes = bin?.bytes ?? Buffer.alloc(0);
      req.contentType = row.body.mediaType ?? 'application/octet-stream';
      break;
    }
    case 'multipart':
      registerSecrets(row, args);
      req.form = await buildForm(args, row.body.fields, row.body.binary, localFiles);
      break;
    default:
      break;
  }
  return req;
}

function outputName(row: OperationRow, args: Record<string, unknown>, contentDisposition?: string): string {
  const fromHeader = contentDisposition?.match(/filename\*?=(?:UTF-8'')?"?([^";]+)"?/i)?.[1];
  if (fromHeader) return decodeURIComponent(fromHeader);
  const path = typeof args.path === 'string' ? args.path.split('/').filter(Boolean).pop() : undefined;
  const ext = row.answer.mediaType?.includes('zip')
    ? '.zip'
    : row.answer.mediaType?.includes('mp4')
      ? '.mp4'
      : row.answer.mediaType?.includes('png')
        ? '.png'
        : '';
  return path ? `${path}${ext && !path.endsWith(ext) ? ext : ''}` : `${row.name}${ext}`;
}

/** Where an agent finds a valid value for a path argument that named nothing. */
const FINDERS: Record<string, string> = {
  browsers: 'browsers_list shows the live browsers (a deleted or timed-out browser is gone)',
  process: 'use the process_id browsers_process_spawn returned',
  fs: 'browsers_fs_list_files shows what exists',
};

/** A 404 names the path arguments to check and where valid values come from. */
function withNotFoundHint(row: OperationRow, err: unknown): unknown {
  if (!(err instanceof KernelError) || err.status !== 404) return err;
  const args = [...row.params.path, ...(row.params.query.includes('path') ? ['path'] : [])];
  if (args.length === 0) return err;
  const where = [
    row.path.startsWith('/browsers/{id}') ? FINDERS.browsers : undefined,
    row.params.path.includes('process_id') ? FINDERS.process : undefined,
    row.path.includes('/fs/') ? FINDERS.fs : undefined,
  ].filter(Boolean);
  const hint = ` Check ${args.map((a) => `\`${a}\``).join(', ')}${where.length ? `: ${where.join('; ')}` : ''}.`;
  return new KernelError(err.kind, `${err.message}${hint}`, {
    method: err.method,
    path: err.path,
    status: 404,
    ...(err.code ? { code: err.code } : {}),
  });
}

/** Where resources/read finds an answer's bytes again: the browser file, or the GET operation's API path. */
function resourceUriOf(row: OperationRow, args: Record<string, unknown>, req: KernelRequest): string | undefined {
  if (row.shape === 'file' && typeof args.id === 'string' && typeof args.path === 'string') {
    return browserFileUri(args.id, args.path);
  }
  return row.method === 'GET' ? apiUri(req.path, req.query) : undefined;
}

/** Calls the operation once and shapes the answer. Shared by the direct tools and dynamic mode. */
export async function callOperation(
  row: OperationRow,
  args: Record<string, unknown>,
  ctx: ToolContext,
): Promise<CallToolResult> {
  if (row.answer.kind === 'stream') return readStream(row, await buildRequest(row, args, false), args, ctx);
  let req = await buildRequest(row, args, ctx.localFiles);
  // Screen coordinates are scaled only for a request that is valid as given (nothing is sent for one that is not).
  if (usesCoordinates(row)) req = await buildRequest(row, await toViewport(row, args, ctx), ctx.localFiles);
  req.signal = ctx.signal;
  const maxChars = charsForTokens(ctx.config.maxResultTokens);
  const outputDir = ctx.localFiles ? ctx.config.outputDir : undefined;
  const name = outputName(row, args);
  if (row.answer.kind === 'binary') {
    // Bytes are held in memory only up to what could be returned inline; larger answers stream to a file (stdio)
    // or are refused (HTTP) before they are read.
    const bufferBytes = outputDir
      ? Math.max(ctx.config.inlineBinaryBytes, IMAGE_INLINE_MAX, maxChars)
      : Math.min(HARD_INLINE_MAX, ctx.config.maxAnswerBytes);
    req.download = {
      bufferBytes,
      // Named when an answer over bufferBytes is saved (the client reads it then, once): most answers are not.
      get file() {
        return outputDir ? outputFile(outputDir, name).file : undefined;
      },
      refusal:
        `The answer is over ${bufferBytes} bytes, the most returned inline over HTTP; it was not read. ` +
        'Narrow the request, or use kernel-mcp over stdio, where large answers are saved to --output-dir',
    };
  }
  let res: Awaited<ReturnType<typeof ctx.client.request>>;
  try {
    res = await ctx.client.request(req);
  } catch (err) {
    throw withNotFoundHint(row, err);
  }
  forgetViewport(row, args, ctx);
  if (res.file) {
    const mediaType = res.contentType ?? row.answer.mediaType ?? 'application/octet-stream';
    return fileResult(res.file.path, res.file.bytes, mediaType, basename(res.file.path));
  }
  const isJson = res.contentType?.includes('json');
  if (row.shape === 'screenshot' && res.contentType?.startsWith('image/')) {
    return screenshotResult(res.body, args, ctx);
  }
  if (res.body.length === 0 || res.status === 204) return emptyResult(res.status, row.method, req.path);
  if (isJson) {
    let data: unknown;
    const text = res.body.toString('utf8');
    try {
      data = JSON.parse(text);
    } catch {
      throw new KernelError(
        'invalid_response',
        `Kernel API answered invalid JSON (${row.method} ${req.path}), starting ${JSON.stringify(redact(text).slice(0, 80))}. ` +
          'Check KERNEL_BASE_URL points at the Kernel API.',
        { method: row.method, path: req.path, status: res.status },
      );
    }
    if (Array.isArray(data) && row.answer.list) {
      const hasMore = header(res.headers, 'x-has-more') === 'true';
      const next = header(res.headers, 'x-next-offset');
      return listResult(
        {
          items: data,
          hasMore,
          nextOffset: hasMore && next !== undefined ? Number(next) : null,
          offset: typeof args.offset === 'number' ? args.offset : 0,
        },
        maxChars,
      );
    }
    if (usesCoordinates(row)) data = await positionToScreenshot(args, data, ctx);
    if (row.shape === 'exec' && isObject(data)) return jsonResult(execView(data), maxChars);
    return jsonResult(mayHoldB64Fields(text) ? decodeB64Fields(data) : data, maxChars);
  }
  return binaryResult(res.body, {
    uri: resourceUriOf(row, args, req),
    mediaType: res.contentType ?? row.answer.mediaType ?? 'application/octet-stream',
    name: outputName(row, args, header(res.headers, 'content-disposition')),
    inlineBytes: ctx.config.inlineBinaryBytes,
    maxChars,
    outputDir: ctx.localFiles ? ctx.config.outputDir : undefined,
  });
}

/** The input schema of a row: the spec's, and for streams the cursor arguments instead of Last-Event-ID. */
function inputFor(row: OperationRow): () => z.ZodType<Record<string, unknown>> {
  if (row.shape === 'screenshot') {
    return () =>
      (row.input() as unknown as z.ZodObject).extend(screenshotArgs) as unknown as z.ZodType<Record<string, unknown>>;
  }
  if (row.answer.kind !== 'stream') return row.input;
  return () => {
    const base = row.input() as unknown as z.ZodObject;
    const omit: Record<string, true> = {};
    for (const arg of Object.keys(row.params.header)) omit[arg] = true;
    return base.omit(omit).extend({ ...streamArgs, ...filterArgsFor(row) }) as unknown as z.ZodType<
      Record<string, unknown>
    >;
  };
}

function describe(row: OperationRow): string {
  if (usesCoordinates(row)) return `${row.description} ${coordinateLine('screenshot')}`;
  if (row.answer.kind !== 'stream') return row.description;
  return `${row.description} Returns events and the next cursor.`;
}

export function operationTool(row: OperationRow): ToolDefinition {
  return defineTool({
    name: row.name,
    title: row.title,
    description: describe(row),
    annotations: row.annotations,
    toolset: row.toolset,
    deprecated: row.deprecated,
    ...(row.view ? { view: row.view } : {}),
    input: inputFor(row),
    handler: (args, ctx) => callOperation(row, args, ctx),
  });
}

/** Every operation's tool, built once per process. */
export const operationTools: readonly ToolDefinition[] = operations.map(operationTool);
export const operationsByName: ReadonlyMap<string, OperationRow> = new Map(operations.map((r) => [r.name, r]));
