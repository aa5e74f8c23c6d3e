/** Route/handler types and reply helpers shared by every area of the simulator. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimContext } from './context.js';
import { badRequest } from './errors.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type Headers = Record<string, string>;

export interface Ctx {
  sim: SimContext;
  req: IncomingMessage;
  res: ServerResponse;
  route: Route;
  requestId: string;
  path: string;
  params: Record<string, string>;
  /** The operation's query parameters (as the spec declares them), coerced to their schema types. */
  query: Record<string, unknown>;
  /** Parsed JSON body (validated against the spec), or `{}` when an optional body was omitted. */
  body: unknown;
  raw: Buffer;
  /** resetNext fault: the reply is cut mid-answer and the socket destroyed. */
  reset: boolean;
}

export type Reply =
  | { kind: 'json'; status: number; body: unknown; headers?: Headers }
  | { kind: 'bytes'; status: number; body: Buffer; contentType: string; headers?: Headers }
  | { kind: 'empty'; status: number; headers?: Headers }
  | { kind: 'streamed' };

export const json = (status: number, body: unknown, headers?: Headers): Reply => ({
  kind: 'json',
  status,
  body,
  headers,
});
export const bytes = (status: number, body: Buffer, contentType: string, headers?: Headers): Reply => ({
  kind: 'bytes',
  status,
  body,
  contentType,
  headers,
});
export const empty = (status: number, headers?: Headers): Reply => ({ kind: 'empty', status, headers });
export const STREAMED: Reply = { kind: 'streamed' };

export interface Route {
  method: Method;
  /** OpenAPI path template, e.g. `/browsers/{id}/fs/read_file`. */
  path: string;
  operationId: string;
  /** `public`: no bearer needed; `jwt`: also accepts JWTs issued by the exchange endpoints. Default: bearer. */
  auth?: 'public' | 'jwt';
  /** The spec declares no 404 for this operation: unknown ids answer 400 instead. */
  no404?: boolean;
  handler: (ctx: Ctx) => Reply | Promise<Reply>;
}

/**
 * Answers one page of `items` with the paging headers: `X-Has-More` always, `X-Next-Offset` when there is a next
 * page, plus `X-Limit`/`X-Offset` when `withLimitHeaders` (the operations whose spec lists them).
 */
export function page<T>(ctx: Ctx, items: readonly T[], withLimitHeaders: boolean, map?: (item: T) => unknown): Reply {
  const limit = (ctx.query['limit'] as number | undefined) ?? 20;
  const offset = (ctx.query['offset'] as number | undefined) ?? 0;
  if (limit < 0) throw badRequest('invalid query parameter: limit must be >= 0');
  if (offset < 0) throw badRequest('invalid query parameter: offset must be >= 0');
  const slice = items.slice(offset, offset + limit);
  const hasMore = offset + slice.length < items.length;
  const headers: Headers = { 'x-has-more': String(hasMore) };
  if (hasMore) headers['x-next-offset'] = String(offset + slice.length);
  if (withLimitHeaders) {
    headers['x-limit'] = String(limit);
    headers['x-offset'] = String(offset);
  }
  return json(200, map ? slice.map(map) : slice, headers);
}

/** Case-insensitive substring match used by the `query` search parameters. */
export function matchesQuery(needle: unknown, ...haystack: (string | undefined | null)[]): boolean {
  if (typeof needle !== 'string' || needle === '') return true;
  const n = needle.toLowerCase();
  return haystack.some((h) => typeof h === 'string' && h.toLowerCase().includes(n));
}

export const param = (ctx: Ctx, name: string): string => ctx.params[name] ?? '';
export const bodyOf = <T>(ctx: Ctx): T => ctx.body as T;

/** A DELETE handler: removes the record `find` looks up from the collection `store` picks, and answers 204. */
export const deleteFrom =
  <T extends { id: string }>(store: (sim: SimContext) => Map<string, T>, find: (ctx: Ctx) => T) =>
  (ctx: Ctx): Reply => {
    store(ctx.sim).delete(find(ctx).id);
    return empty(204);
  };
