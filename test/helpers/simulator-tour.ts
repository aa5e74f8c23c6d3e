/**
 * Conformance checking of simulator answers against the spec: status declared for the operation, media type,
 * body schema (Ajv) or binary format, and declared headers (paging headers, Retry-After, X-SSE-Content-Type).
 */
import { inspectPng, mp4Boxes, unzip } from './simulator-binary.js';
import {
  type Answer,
  type Json,
  type RequestOptions,
  readSse,
  request,
  type SseOptions,
  type SseResult,
} from './simulator-client.js';
import { declaredResponse, operation, responseSchema, validateAgainst } from './simulator-spec.js';

function fail(operationId: string, status: number, message: string): never {
  throw new Error(`${operationId} -> ${status}: ${message}`);
}

function checkHeaders(operationId: string, status: number, declared: Json, headers: Headers): void {
  for (const name of Object.keys(declared?.headers ?? {})) {
    const value = headers.get(name);
    if (name.toLowerCase() === 'x-next-offset') {
      const hasMore = headers.get('x-has-more') === 'true';
      if (hasMore !== (value !== null))
        fail(operationId, status, `X-Next-Offset must be present exactly when X-Has-More is true`);
      if (value !== null && !/^\d+$/.test(value))
        fail(operationId, status, `X-Next-Offset is not an integer: ${value}`);
      continue;
    }
    if (value === null) fail(operationId, status, `missing declared header ${name}`);
    const type = declared.headers[name]?.schema?.type;
    if (type === 'integer' && !/^\d+$/.test(value)) fail(operationId, status, `${name} is not an integer: ${value}`);
    if (type === 'boolean' && value !== 'true' && value !== 'false')
      fail(operationId, status, `${name} is not a boolean`);
    const constant = declared.headers[name]?.schema?.const;
    if (constant !== undefined && value !== constant) fail(operationId, status, `${name} must be ${constant}`);
  }
  if (status === 429 && !/^\d+$/.test(headers.get('retry-after') ?? ''))
    fail(operationId, status, 'missing Retry-After');
}

/** Throws unless the answer is one the spec declares for this operation. */
export function checkAnswer(operationId: string, a: Answer): void {
  const declared = declaredResponse(operationId, a.status);
  if (!declared) fail(operationId, a.status, `status not declared by the spec (body: ${a.text.slice(0, 200)})`);
  checkHeaders(operationId, a.status, declared, a.headers);
  const content = declared.content as Record<string, Json> | undefined;
  if (!content) {
    if (a.bytes.length !== 0) fail(operationId, a.status, `the spec declares no body but ${a.bytes.length} bytes came`);
    return;
  }
  if (!(a.mediaType in content)) {
    fail(operationId, a.status, `media type ${a.mediaType} not among ${Object.keys(content).join(', ')}`);
  }
  const schema = responseSchema(operationId, a.status, a.mediaType);
  switch (a.mediaType) {
    case 'application/json': {
      const errors = validateAgainst(schema, a.json, `${operationId}:${a.status}:${a.mediaType}`);
      if (errors) fail(operationId, a.status, `body does not match the schema:\n${errors}\n${a.text.slice(0, 800)}`);
      return;
    }
    case 'image/png':
      inspectPng(a.bytes);
      return;
    case 'video/mp4':
      if (mp4Boxes(a.bytes)[0] !== 'ftyp') fail(operationId, a.status, 'MP4 does not start with ftyp');
      return;
    case 'application/zip':
      unzip(a.bytes);
      return;
    default:
      if (a.bytes.length === 0) fail(operationId, a.status, 'empty binary body');
  }
}

export interface TourCall extends RequestOptions {
  params?: Record<string, string>;
  /** Expected status (default: any 2xx). */
  expect?: number;
}

export function pathFor(operationId: string, params: Record<string, string> = {}): string {
  return operation(operationId).path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const v = params[name];
    if (v === undefined) throw new Error(`${operationId}: missing path parameter ${name}`);
    return encodeURIComponent(v);
  });
}

/** Drives operations by operationId, validating every answer and recording which operations succeeded. */
export class Tour {
  readonly exercised = new Set<string>();
  constructor(readonly base: string) {}

  async call(operationId: string, opts: TourCall = {}): Promise<Answer> {
    const op = operation(operationId);
    const a = await request(this.base, op.method, pathFor(operationId, opts.params), opts);
    if (opts.expect !== undefined ? a.status !== opts.expect : a.status < 200 || a.status > 299) {
      fail(operationId, a.status, `expected ${opts.expect ?? '2xx'}; body: ${a.text.slice(0, 500)}`);
    }
    checkAnswer(operationId, a);
    if (a.status >= 200 && a.status < 300) this.exercised.add(operationId);
    return a;
  }

  /** Reads an event stream, validating every frame's data against the spec's event schema. */
  async stream(operationId: string, opts: SseOptions & { params?: Record<string, string> } = {}): Promise<SseResult> {
    const r = await readSse(this.base, pathFor(operationId, opts.params), opts);
    if (r.status !== 200) fail(operationId, r.status, `stream answered ${JSON.stringify(r.errorBody)}`);
    const declared = declaredResponse(operationId, 200);
    checkHeaders(operationId, 200, declared, r.headers);
    const schema = responseSchema(operationId, 200, 'text/event-stream');
    let last = -1;
    for (const frame of r.frames) {
      const errors = validateAgainst(schema, frame.json, `${operationId}:sse`);
      if (errors) fail(operationId, 200, `event does not match the schema:\n${errors}\n${frame.data.slice(0, 500)}`);
      const id = Number(frame.id);
      if (!Number.isInteger(id) || id <= last)
        fail(operationId, 200, `event ids must increase (got ${frame.id} after ${last})`);
      last = id;
    }
    this.exercised.add(operationId);
    return r;
  }
}
