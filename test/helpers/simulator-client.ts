/** A minimal HTTP + SSE client for the simulator tests (plain fetch). */

// biome-ignore lint/suspicious/noExplicitAny: JSON answers are checked by the tests themselves.
export type Json = any;

export const TOKEN = 'test-key';

export interface Answer {
  status: number;
  headers: Headers;
  /** Media type without parameters (e.g. `application/json`), '' when absent. */
  mediaType: string;
  bytes: Buffer;
  text: string;
  json: Json;
}

export interface RequestOptions {
  json?: unknown;
  body?: Buffer | FormData | string;
  headers?: Record<string, string>;
  query?: Record<string, string | number | boolean | undefined>;
  /** Bearer token; `null` sends no Authorization header. Default TOKEN. */
  token?: string | null;
  signal?: AbortSignal;
}

export function buildUrl(base: string, path: string, query?: RequestOptions['query']): string {
  const url = new URL(path, base);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  return url.toString();
}

function requestInit(method: string, opts: RequestOptions): RequestInit {
  const headers: Record<string, string> = { ...opts.headers };
  const token = opts.token === undefined ? TOKEN : opts.token;
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  let body: RequestInit['body'];
  if (opts.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.body !== undefined) {
    body = opts.body instanceof Buffer ? new Uint8Array(opts.body) : opts.body;
  }
  return { method, headers, body, signal: opts.signal };
}

export async function request(base: string, method: string, path: string, opts: RequestOptions = {}): Promise<Answer> {
  const res = await fetch(buildUrl(base, path, opts.query), requestInit(method, opts));
  const bytes = Buffer.from(await res.arrayBuffer());
  const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
  const text = bytes.toString('utf8');
  let json: Json;
  if (mediaType === 'application/json' && bytes.length > 0) json = JSON.parse(text);
  return { status: res.status, headers: res.headers, mediaType, bytes, text, json };
}

/** `request` bound to one simulator: `const call = caller(sim)`, then `call('GET', '/browsers')`. */
export const caller =
  (sim: { url: string }) =>
  (method: string, path: string, opts: RequestOptions = {}): Promise<Answer> =>
    request(sim.url, method, path, opts);

export interface SseFrame {
  id?: string;
  data: string;
  json: Json;
}

export interface SseResult {
  status: number;
  headers: Headers;
  frames: SseFrame[];
  comments: string[];
  /** closed: the server ended the response; error: the connection broke; stopped: `until` was satisfied. */
  end: 'closed' | 'error' | 'stopped' | 'timeout';
  /** Error body when the answer was not an event stream. */
  errorBody?: Json;
}

export interface SseOptions {
  headers?: Record<string, string>;
  query?: RequestOptions['query'];
  lastEventId?: string | number;
  token?: string | null;
  /** Stop reading (and disconnect) once this returns true. */
  until?: (frames: SseFrame[], comments: string[]) => boolean;
  /** Called after every frame (e.g. to trigger the next action of a test). */
  onFrame?: (frame: SseFrame, frames: SseFrame[]) => void | Promise<void>;
  timeoutMs?: number;
}

/** Reads an SSE response, parsing frames as the EventSource spec does (id/data fields, comments). */
export async function readSse(base: string, path: string, opts: SseOptions = {}): Promise<SseResult> {
  const controller = new AbortController();
  const headers: Record<string, string> = { accept: 'text/event-stream', ...opts.headers };
  if (opts.lastEventId !== undefined) headers['last-event-id'] = String(opts.lastEventId);
  const init = requestInit('GET', { headers, token: opts.token, signal: controller.signal });
  const timer = setTimeout(() => controller.abort(new Error('timeout')), opts.timeoutMs ?? 5000);
  const frames: SseFrame[] = [];
  const comments: string[] = [];
  let end: SseResult['end'] = 'closed';
  let res: Response;
  try {
    res = await fetch(buildUrl(base, path, opts.query), init);
  } catch (e) {
    clearTimeout(timer);
    throw e;
  }
  if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    clearTimeout(timer);
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      frames,
      comments,
      end: 'closed',
      errorBody: text ? JSON.parse(text) : undefined,
    };
  }
  const decoder = new TextDecoder();
  let buffer = '';
  let stopped = false;
  const reader = res.body?.getReader();
  try {
    while (reader && !stopped) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let sep = buffer.indexOf('\n\n');
      while (sep >= 0 && !stopped) {
        const block = buffer.slice(0, sep);
        buffer = buffer.slice(sep + 2);
        let id: string | undefined;
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) comments.push(line.slice(1).trim());
          else if (line.startsWith('id:')) id = line.slice(3).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        if (data.length > 0) {
          const text = data.join('\n');
          const frame: SseFrame = { id, data: text, json: JSON.parse(text) };
          frames.push(frame);
          await opts.onFrame?.(frame, frames);
        }
        if (opts.until?.(frames, comments)) {
          stopped = true;
          end = 'stopped';
        }
        sep = buffer.indexOf('\n\n');
      }
    }
  } catch {
    end = controller.signal.aborted ? 'timeout' : 'error';
  } finally {
    clearTimeout(timer);
    if (stopped) controller.abort();
  }
  return { status: res.status, headers: res.headers, frames, comments, end };
}

/** Polls `fn` until it returns a truthy value (no timing assertions: it only bounds the wait). */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('waitFor: condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function formData(fields: Record<string, string | { data: Buffer; filename: string; type?: string }>): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === 'string') form.append(name, value);
    else
      form.append(
        name,
        new Blob([new Uint8Array(value.data)], { type: value.type ?? 'application/octet-stream' }),
        value.filename,
      );
  }
  return form;
}
