/**
 * The one Kernel API client. It owns the base URL, the API key, connection reuse (an undici Agent, injectable so
 * unit tests use MockAgent), timeouts, cancellation, bounded retries for idempotent methods, error mapping and
 * redaction. Every tool, stream and resource reaches the API through an instance of this class.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { Agent, Dispatcher, FormData } from 'undici';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { addSecret, redactBytesStream } from '../redact.js';
import { apiError, KernelError } from './errors.js';

export interface KernelClientOptions {
  baseUrl: string;
  apiKey: string;
  /** Whole-request timeout (connect, headers and body), in ms. */
  timeoutMs?: number;
  /** Retries after the first attempt, for GET/PUT/DELETE only. */
  maxRetries?: number;
  /** The longest Retry-After the client will wait for, in seconds; a longer one is returned as the error. */
  maxRetryAfterSeconds?: number;
  /** Base backoff in ms between retries when the answer has no Retry-After. */
  retryBaseMs?: number;
  dispatcher?: Dispatcher;
  logger?: Logger;
  userAgent?: string;
  /** Extra headers on every request (the proxy-pool service sends `Connect-Protocol-Version`). */
  headers?: Record<string, string>;
  /** How the client waits between retries (tests record the waits instead of sleeping). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /**
   * Redact the key everywhere in the process (the server's own key; default). False for an HTTP passthrough
   * client's key: that is redacted only while serving its client (`withSecrets`).
   */
  pinKey?: boolean;
  /** The largest answer read into memory (JSON, or bytes not saved to a file), in bytes. */
  maxAnswerBytes?: number;
  /** The largest answer saved to a file (`KernelRequest.download`), in bytes. */
  maxDownloadBytes?: number;
  /** The largest SSE event (or unterminated line) a stream may buffer, in characters. */
  maxEventBytes?: number;
}

/** Defaults of the answer bounds (also the config's defaults). */
export const ANSWER_LIMITS = {
  maxAnswerBytes: 64 * 1024 * 1024,
  maxDownloadBytes: 4 * 1024 * 1024 * 1024,
  maxEventBytes: 1024 * 1024,
};
/** Error answers are read up to this many bytes (their message is all that is used). */
const ERROR_BODY_MAX = 64 * 1024;

/**
 * A bytes answer (not JSON) that may be too large for memory: at most `bufferBytes` are held; a larger answer is
 * streamed to `file` (stdio), or refused with `refusal` (HTTP, where there is no local file to give).
 */
export interface DownloadSpec {
  bufferBytes: number;
  file?: string;
  /** Says why the answer is refused (names the limit and what to do); used when there is no file. */
  refusal: string;
}

export type QueryValue = string | number | boolean | null | undefined | (string | number | boolean)[];

export interface KernelRequest {
  method: string;
  /** Path relative to the base URL, already expanded (`/browsers/abc`). */
  path: string;
  query?: Record<string, QueryValue>;
  headers?: Record<string, string>;
  /** A JSON value (sent as application/json), raw bytes, or multipart form data. */
  json?: unknown;
  bytes?: Uint8Array;
  contentType?: string;
  form?: FormData;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Overrides the method rule: true allows retries, false forbids them. */
  retry?: boolean;
  /**
   * Reads an error answer for a service with its own error format (the proxy-pool service's Connect errors): the
   * error to throw, and whether it may be retried (instead of the 429/502/503/504 rule; only when retries are allowed).
   */
  mapError?: (res: KernelResponse) => { error: Error; retryable: boolean };
  /** For bytes answers: bounded in memory, larger ones streamed to a file or refused (see DownloadSpec). */
  download?: DownloadSpec;
}

export interface KernelResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  contentType: string | undefined;
  /** The answer was streamed to this file (request.download) instead of `body`, which is then empty. */
  file?: { path: string; bytes: number };
}

export interface SseEvent {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
const RETRY_STATUS = new Set([429, 502, 503, 504]);
const RESET_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNREFUSED',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** An abortable wait: node:timers/promises loads with the first one (a retry, a reconnect), not at every start. */
export async function lazySleep(ms: number, signal?: AbortSignal): Promise<void> {
  const { setTimeout } = await import('node:timers/promises');
  await setTimeout(ms, undefined, { signal });
}

/**
 * undici is loaded on the first request, not at start-up: importing it costs ~70 ms, a quarter of a cold start
 * that an MCP client waits for before its first `initialize` answer.
 */
let undiciModule: Promise<typeof import('undici')> | undefined;
/** undici once loaded, and the shared pool once made: a request then awaits neither (two microtask turns a call). */
let undiciLoaded: typeof import('undici') | undefined;
let agentMade: Agent | undefined;
export function loadUndici(): Promise<typeof import('undici')> {
  undiciModule ??= import('undici').then((u) => {
    undiciLoaded = u;
    return u;
  });
  return undiciModule;
}

/** One shared connection pool per process: a client per API key (passthrough auth) reuses it. */
let sharedAgent: Promise<Agent> | undefined;
export function sharedDispatcher(): Promise<Dispatcher> {
  sharedAgent ??= loadUndici().then((u) => {
    agentMade = new u.Agent({ keepAliveTimeout: 30_000, connections: 64, pipelining: 1 });
    return agentMade;
  });
  return sharedAgent;
}

function header(headers: KernelResponse['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

type Body = Dispatcher.ResponseData['body'];

/**
 * Closes an answer's connection without reading the rest. undici reports that as an abort error on the body, which
 * nobody is listening for any more: without a listener it would surface as an uncaught exception.
 */
function discard(body: Body): void {
  if (body.listenerCount('error') === 0) body.on('error', () => {});
  body.destroy();
}

/** The declared Content-Length, when there is a valid one. */
function declaredLength(headers: KernelResponse['headers']): number | undefined {
  const n = Number(header(headers, 'content-length'));
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** A body read whole by undici itself: cheaper per answer than iterating over it. */
async function readWhole(body: Body): Promise<Buffer> {
  const bytes = await body.bytes();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Reads a body up to `limit` bytes. Past it: `truncate` keeps the first `limit` bytes and closes the connection;
 * otherwise `over()` is thrown (after closing the connection), also at once when the declared length is over.
 */
async function readBody(
  body: Body,
  limit: number,
  over: (() => Error) | 'truncate',
  declared?: number,
): Promise<Buffer> {
  if (over !== 'truncate' && declared !== undefined && declared > limit) {
    discard(body);
    throw over();
  }
  // A declared length within the bound is read whole (undici holds the body to its Content-Length); without one,
  // chunk by chunk so the bound is checked as bytes come.
  if (declared !== undefined && declared <= limit) return readWhole(body);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (size + chunk.length > limit) {
      discard(body);
      if (over !== 'truncate') throw over();
      chunks.push(chunk.subarray(0, limit - size));
      size = limit;
      break;
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

const isJson = (contentType: string | undefined) => !!contentType && /[/+]json\b/i.test(contentType);

/** A 3xx answer: redirects are never followed (they would carry the API key elsewhere) nor taken for success. */
export function redirectError(method: string, path: string, status: number, location: string | undefined): KernelError {
  const where = location ? `to ${location.slice(0, 300)}` : 'without a Location';
  return new KernelError(
    'api',
    `Kernel API answered ${status}, a redirect ${where} (${method} ${path}). Redirects are not followed: check ` +
      'KERNEL_BASE_URL (the API answers directly, without redirects).',
    { method, path, status, code: `http_${status}` },
  );
}

/** A path whose segments include `.` or `..` (in any encoding) would reach another route. */
function hasDotSegment(path: string): boolean {
  return DOT_SEGMENT.test(path);
}
const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i;

/** Retry-After: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const secs = Number(value);
  if (Number.isFinite(secs) && secs >= 0) return secs;
  const date = Date.parse(value);
  if (!Number.isNaN(date)) return Math.max(0, (date - Date.now()) / 1000);
  return undefined;
}

function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * A path URL() leaves as it is (with no dot segment, which it resolves): no `?`, `#`, `\`, spaces, controls,
 * non-ASCII or other characters it escapes.
 */
const PLAIN_PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;
/** Base URLs already in URL()'s own form (so a plain path can be appended to the text), by base. */
const plainBases = new Map<string, boolean>();

function isPlainBase(base: string): boolean {
  let plain = plainBases.get(base);
  if (plain === undefined) {
    try {
      const u = new URL(base);
      plain = !u.search && !u.hash && u.href.replace(/\/$/, '') === base;
    } catch {
      plain = false;
    }
    if (plainBases.size < 64) plainBases.set(base, plain);
  }
  return plain;
}

/**
 * The URL of a request: `path` under `baseUrl`, with `query` (arrays repeat their key; null and undefined are left
 * out) encoded as a form. What `new URL()` makes of it, built as text where the base and path are already in URL's
 * form (the usual case: tool paths are encoded segment by segment), since undici parses the URL again anyway.
 */
export function requestUrl(baseUrl: string, path: string, query?: Record<string, QueryValue>): string {
  const rooted = path.startsWith('/') ? path : `/${path}`;
  if (PLAIN_PATH.test(rooted) && !hasDotSegment(rooted) && isPlainBase(baseUrl)) {
    let search: URLSearchParams | undefined;
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined || v === null) continue;
      search ??= new URLSearchParams();
      if (Array.isArray(v)) for (const item of v) search.append(k, String(item));
      else search.append(k, String(v));
    }
    const qs = search?.toString();
    return qs ? `${baseUrl}${rooted}?${qs}` : baseUrl + rooted;
  }
  const url = new URL(baseUrl + rooted);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const item of v) url.searchParams.append(k, String(item));
    else url.searchParams.set(k, String(v));
  }
  return url.toString();
}

export class KernelClient {
  readonly baseUrl: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #maxRetryAfter: number;
  readonly #retryBaseMs: number;
  readonly #dispatcher: Dispatcher | undefined;
  readonly #logger: Logger;
  readonly #headers: Record<string, string>;
  readonly #wait: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #maxAnswerBytes: number;
  readonly #maxDownloadBytes: number;
  readonly #maxEventBytes: number;

  constructor(options: KernelClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#apiKey = options.apiKey;
    if (options.pinKey !== false) addSecret(options.apiKey, { pin: true });
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#maxRetries = options.maxRetries ?? 2;
    this.#maxRetryAfter = options.maxRetryAfterSeconds ?? 30;
    this.#retryBaseMs = options.retryBaseMs ?? 250;
    this.#dispatcher = options.dispatcher;
    this.#logger = options.logger ?? silentLogger;
    this.#wait = options.sleep ?? lazySleep;
    this.#maxAnswerBytes = options.maxAnswerBytes ?? ANSWER_LIMITS.maxAnswerBytes;
    this.#maxDownloadBytes = options.maxDownloadBytes ?? ANSWER_LIMITS.maxDownloadBytes;
    this.#maxEventBytes = options.maxEventBytes ?? ANSWER_LIMITS.maxEventBytes;
    this.#headers = {
      'user-agent': options.userAgent ?? 'kernel-mcp',
      ...options.headers,
    };
  }

  /** A client for another API key (or base URL) sharing this one's connections and settings. */
  withOptions(overrides: Partial<KernelClientOptions>): KernelClient {
    return new KernelClient({
      baseUrl: this.baseUrl,
      apiKey: this.#apiKey,
      timeoutMs: this.#timeoutMs,
      maxRetries: this.#maxRetries,
      maxRetryAfterSeconds: this.#maxRetryAfter,
      retryBaseMs: this.#retryBaseMs,
      ...(this.#dispatcher ? { dispatcher: this.#dispatcher } : {}),
      logger: this.#logger,
      headers: this.#headers,
      sleep: this.#wait,
      maxAnswerBytes: this.#maxAnswerBytes,
      maxDownloadBytes: this.#maxDownloadBytes,
      maxEventBytes: this.#maxEventBytes,
      ...overrides,
    });
  }

  #url(method: string, path: string, query?: Record<string, QueryValue>): string {
    // The tools check each path argument and name it; this catches any other caller before URL() resolves the dots.
    if (hasDotSegment(path)) {
      throw new KernelError('invalid_request', `Refused a request path with a '.' or '..' segment: ${path}`, {
        method,
        path,
      });
    }
    return requestUrl(this.baseUrl, path, query);
  }

  #requestHeaders(req: KernelRequest, accept: string): Record<string, string> {
    const h: Record<string, string> = {
      ...this.#headers,
      accept,
      ...req.headers,
      authorization: `Bearer ${this.#apiKey}`,
    };
    if (req.json !== undefined) h['content-type'] = 'application/json';
    else if (req.bytes) h['content-type'] = req.contentType ?? 'application/octet-stream';
    return h;
  }

  /** Sends one request; retries idempotent ones on 429/502/503/504 and connection resets. */
  async request(req: KernelRequest): Promise<KernelResponse> {
    const method = req.method.toUpperCase();
    const canRetry = req.retry ?? IDEMPOTENT.has(method);
    const timeoutMs = req.timeoutMs ?? this.#timeoutMs;
    const deadline = Date.now() + timeoutMs;
    // One controller for the deadline and the caller's cancellation (cheaper per call than AbortSignal.any).
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException('timed out', 'TimeoutError')), timeoutMs);
    const onAbort = () => controller.abort(req.signal?.reason);
    if (req.signal?.aborted) onAbort();
    else req.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.#attempts(req, method, canRetry, timeoutMs, deadline, controller.signal);
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
    }
  }

  async #attempts(
    req: KernelRequest,
    method: string,
    canRetry: boolean,
    timeoutMs: number,
    deadline: number,
    signal: AbortSignal,
  ): Promise<KernelResponse> {
    const url = this.#url(method, req.path, req.query);
    const body =
      req.json !== undefined ? JSON.stringify(req.json) : req.bytes ? Buffer.from(req.bytes) : (req.form ?? null);

    for (let attempt = 0; ; attempt++) {
      let res: KernelResponse;
      try {
        res = await this.#once(method, url, req, body, signal);
      } catch (err) {
        const mapped = this.#mapThrown(err, method, req.path, timeoutMs, req.signal);
        const retryable = mapped.kind === 'network' && canRetry && attempt < this.#maxRetries;
        if (!retryable) throw mapped;
        const wait = this.#backoff(attempt);
        if (Date.now() + wait >= deadline) throw mapped;
        this.#logger.debug('retrying after a connection failure', { method, path: req.path, attempt: attempt + 1 });
        await this.#sleep(wait, signal, method, req.path, timeoutMs, req.signal);
        continue;
      }
      if (res.status < 300) return res;
      if (res.status < 400) throw redirectError(method, req.path, res.status, header(res.headers, 'location'));
      const retryAfter = parseRetryAfter(header(res.headers, 'retry-after'));
      const mapped = req.mapError?.(res);
      const error = mapped?.error ?? apiError(method, req.path, res.status, res.body, res.contentType, retryAfter);
      const retryable = mapped ? mapped.retryable : RETRY_STATUS.has(res.status);
      if (!canRetry || !retryable || attempt >= this.#maxRetries) throw error;
      if (retryAfter !== undefined && retryAfter > this.#maxRetryAfter) throw error;
      const wait = retryAfter !== undefined ? retryAfter * 1000 : this.#backoff(attempt);
      if (Date.now() + wait >= deadline) throw error;
      this.#logger.debug('retrying', { method, path: req.path, status: res.status, waitMs: Math.round(wait) });
      await this.#sleep(wait, signal, method, req.path, timeoutMs, req.signal);
    }
  }

  /** Sends a JSON request and parses the JSON answer (the proxy-pool service and small helpers use this). */
  async json<T = unknown>(
    req: KernelRequest,
  ): Promise<{ status: number; data: T; headers: KernelResponse['headers'] }> {
    const res = await this.request(req);
    const text = res.body.toString('utf8');
    if (!text) return { status: res.status, data: undefined as T, headers: res.headers };
    try {
      return { status: res.status, data: JSON.parse(text) as T, headers: res.headers };
    } catch (err) {
      throw new KernelError('invalid_response', `Kernel API answered invalid JSON (${req.method} ${req.path})`, {
        method: req.method,
        path: req.path,
        status: res.status,
        cause: err,
      });
    }
  }

  /**
   * Opens an event stream and yields its events until it ends, `signal` aborts, or the connection drops (then the
   * iterator throws a `network` KernelError; the caller resumes with `lastEventId`). No whole-request timeout: a
   * stream lives as long as its resource; the connect/headers phase is bounded by the client timeout.
   */
  async *stream(req: KernelRequest & { lastEventId?: string }): AsyncGenerator<SseEvent, void, undefined> {
    const method = req.method.toUpperCase();
    const controller = new AbortController();
    const onAbort = () => controller.abort(req.signal?.reason);
    req.signal?.addEventListener('abort', onAbort, { once: true });
    const headers = this.#requestHeaders(req, 'text/event-stream');
    if (req.lastEventId) headers['last-event-id'] = req.lastEventId;
    const headersTimer = setTimeout(
      () => controller.abort(new DOMException('timed out', 'TimeoutError')),
      req.timeoutMs ?? this.#timeoutMs,
    );
    let res: Dispatcher.ResponseData;
    try {
      const { request } = await loadUndici();
      res = await request(this.#url(method, req.path, req.query), {
        method: method as Dispatcher.HttpMethod,
        headers,
        dispatcher: this.#dispatcher ?? (await sharedDispatcher()),
        signal: controller.signal,
        bodyTimeout: 0,
      });
    } catch (err) {
      req.signal?.removeEventListener('abort', onAbort);
      throw this.#mapThrown(err, method, req.path, req.timeoutMs ?? this.#timeoutMs, req.signal);
    } finally {
      clearTimeout(headersTimer);
    }
    try {
      if (res.statusCode >= 300 && res.statusCode < 400) {
        throw redirectError(
          method,
          req.path,
          res.statusCode,
          header(res.headers as KernelResponse['headers'], 'location'),
        );
      }
      if (res.statusCode >= 400) {
        const body = await readBody(res.body, ERROR_BODY_MAX, 'truncate');
        const ct = header(res.headers as KernelResponse['headers'], 'content-type');
        const retryAfter = parseRetryAfter(header(res.headers as KernelResponse['headers'], 'retry-after'));
        throw apiError(method, req.path, res.statusCode, body, ct, retryAfter);
      }
      const queue: SseEvent[] = [];
      let oversized = false;
      // The parser buffers an unterminated line or event; past the bound it stops, and the stream is cut (the hub
      // resumes it after the last whole event).
      const parser = createParser({
        onEvent: (e: EventSourceMessage) => queue.push({ id: e.id, event: e.event, data: e.data }),
        onError: (e) => {
          if (e.type === 'max-buffer-size-exceeded') oversized = true;
        },
        maxBufferSize: this.#maxEventBytes,
      });
      const decoder = new TextDecoder();
      try {
        for await (const chunk of res.body) {
          parser.feed(decoder.decode(chunk as Buffer, { stream: true }));
          while (queue.length) yield queue.shift()!;
          if (oversized) {
            throw new KernelError(
              'invalid_response',
              `Kernel API sent an event (or a line) longer than ${this.#maxEventBytes} characters ` +
                `(--max-event-bytes); the stream was cut (${method} ${req.path}).`,
              { method, path: req.path },
            );
          }
        }
      } catch (err) {
        if (err instanceof KernelError) throw err;
        if (req.signal?.aborted) return;
        throw this.#mapThrown(err, method, req.path, req.timeoutMs ?? this.#timeoutMs, req.signal);
      }
      while (queue.length) yield queue.shift()!;
    } finally {
      req.signal?.removeEventListener('abort', onAbort);
      if (!res.body.destroyed) discard(res.body);
    }
  }

  async #once(
    method: string,
    url: string,
    req: KernelRequest,
    body: string | Buffer | FormData | null,
    signal: AbortSignal,
  ): Promise<KernelResponse> {
    const { request } = undiciLoaded ?? (await loadUndici());
    const res = await request(url, {
      method: method as Dispatcher.HttpMethod,
      headers: this.#requestHeaders(req, 'application/json, */*;q=0.5'),
      body,
      dispatcher: this.#dispatcher ?? agentMade ?? (await sharedDispatcher()),
      signal,
    });
    const headers = res.headers as KernelResponse['headers'];
    const status = res.statusCode;
    const contentType = header(headers, 'content-type');
    const answer = (body: Buffer): KernelResponse => ({ status, headers, body, contentType });
    if (status >= 300) {
      // Only the message of an error (or nothing of a redirect) is used: a bounded read is enough.
      return answer(status < 400 ? Buffer.alloc(0) : await readBody(res.body, ERROR_BODY_MAX, 'truncate'));
    }
    const declared = declaredLength(headers);
    if (req.download && !isJson(contentType)) return this.#download(res.body, req, method, answer, declared);
    const limit = this.#maxAnswerBytes;
    return answer(
      await readBody(
        res.body,
        limit,
        () => this.#tooLarge(method, req.path, limit, '--max-answer-bytes', declared),
        declared,
      ),
    );
  }

  #tooLarge(method: string, path: string, limit: number, option: string, declared?: number, advice = ''): KernelError {
    const size = declared !== undefined ? `is ${declared} bytes,` : 'is';
    return new KernelError(
      'invalid_response',
      `Kernel API answer ${size} over the ${limit}-byte limit (${option}); it was not read (${method} ${path}).${advice}`,
      { method, path },
    );
  }

  /**
   * A bytes answer: held in memory up to `bufferBytes`; past that streamed to the request's file (the process's own
   * keys redacted on the way, the file bounded by maxDownloadBytes), or refused when there is no file.
   */
  async #download(
    body: Body,
    req: KernelRequest,
    method: string,
    answer: (body: Buffer) => KernelResponse,
    declared: number | undefined,
  ): Promise<KernelResponse> {
    const spec = req.download!;
    if (declared !== undefined && declared <= spec.bufferBytes) return answer(await readWhole(body));
    const chunks: Buffer[] = [];
    let size = 0;
    const iterator = (body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    if (declared === undefined) {
      for (;;) {
        const next = await iterator.next();
        if (next.done) return answer(Buffer.concat(chunks, size));
        chunks.push(next.value);
        size += next.value.length;
        if (size > spec.bufferBytes) break;
      }
    }
    const file = spec.file;
    if (!file) {
      discard(body);
      throw new KernelError('invalid_response', `${spec.refusal} (${method} ${req.path})`, { method, path: req.path });
    }
    const max = this.#maxDownloadBytes;
    if (declared !== undefined && declared > max) {
      discard(body);
      throw this.#tooLarge(method, req.path, max, '--max-download-bytes', declared);
    }
    const tooLarge = () => this.#tooLarge(method, req.path, max, '--max-download-bytes');
    async function* all(): AsyncGenerator<Buffer> {
      // What was buffered counts towards the bound too (it may already be over it).
      if (size > max) throw tooLarge();
      yield* chunks;
      chunks.length = 0;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        size += next.value.length;
        if (size > max) throw tooLarge();
        yield next.value;
      }
    }
    await mkdir(dirname(file), { recursive: true });
    let written = 0;
    try {
      await pipeline(
        all(),
        redactBytesStream(),
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            written += chunk.length;
            yield chunk;
          }
        },
        createWriteStream(file, { mode: 0o600 }),
      );
    } catch (err) {
      discard(body);
      await unlink(file).catch(() => {});
      if ((err as { path?: unknown }).path === file) {
        const why = (err as { code?: string }).code ?? (err as Error).message;
        throw new KernelError(
          'invalid_response',
          `Could not save the answer to ${file} (${why}): check --output-dir.`,
          {
            method,
            path: req.path,
            cause: err,
          },
        );
      }
      throw err;
    }
    return { ...answer(Buffer.alloc(0)), file: { path: file, bytes: written } };
  }

  #backoff(attempt: number): number {
    const base = this.#retryBaseMs * 2 ** attempt;
    return base / 2 + Math.random() * (base / 2);
  }

  async #sleep(
    ms: number,
    signal: AbortSignal,
    method: string,
    path: string,
    timeoutMs: number,
    callerSignal?: AbortSignal,
  ): Promise<void> {
    try {
      await this.#wait(ms, signal);
    } catch (err) {
      throw this.#mapThrown(err, method, path, timeoutMs, callerSignal);
    }
  }

  #mapThrown(err: unknown, method: string, path: string, timeoutMs: number, callerSignal?: AbortSignal): KernelError {
    if (err instanceof KernelError) return err;
    if (callerSignal?.aborted) {
      return new KernelError('aborted', `Request cancelled (${method} ${path})`, { method, path, cause: err });
    }
    const name = (err as { name?: string }).name;
    const code = errorCode(err);
    if (name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
      return new KernelError(
        'timeout',
        `Kernel API did not answer within ${timeoutMs < 1000 ? `${timeoutMs}ms` : `${Math.round(timeoutMs / 1000)}s`} (${method} ${path}). Retry, or raise KERNEL_TIMEOUT_MS.`,
        { method, path, cause: err },
      );
    }
    if (name === 'AbortError') {
      return new KernelError('aborted', `Request cancelled (${method} ${path})`, { method, path, cause: err });
    }
    const detail = code && RESET_CODES.has(code) ? 'the connection was reset' : (err as Error).message || String(err);
    return new KernelError(
      'network',
      `Could not reach the Kernel API at ${this.baseUrl}: ${detail} (${method} ${path}).`,
      { method, path, cause: err },
    );
  }
}
