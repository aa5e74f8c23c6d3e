/**
 * Errors of the Kernel API client, each with a message an agent can act on. Messages never carry the API key:
 * they name the method and the path (without its query string) and pass through the redactor.
 */
import { redact } from '../redact.js';

export type KernelErrorKind = 'api' | 'timeout' | 'aborted' | 'network' | 'invalid_response' | 'invalid_request';

export class KernelError extends Error {
  readonly kind: KernelErrorKind;
  readonly method: string;
  readonly path: string;
  readonly status?: number;
  readonly code?: string;
  readonly retryAfterSeconds?: number;

  constructor(
    kind: KernelErrorKind,
    message: string,
    init: { method: string; path: string; status?: number; code?: string; retryAfterSeconds?: number; cause?: unknown },
  ) {
    super(redact(message), init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'KernelError';
    this.kind = kind;
    this.method = init.method;
    this.path = init.path;
    if (init.status !== undefined) this.status = init.status;
    if (init.code !== undefined) this.code = init.code;
    if (init.retryAfterSeconds !== undefined) this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

const STATUS_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  422: 'unprocessable_entity',
  429: 'rate_limited',
  500: 'internal_error',
  502: 'bad_gateway',
  503: 'service_unavailable',
  504: 'gateway_timeout',
  529: 'capacity_exhausted',
};

/** What to do next, by status: the part of the message that makes an error actionable. */
function hint(status: number, retryAfter?: number): string {
  switch (status) {
    case 401:
      return ' Check KERNEL_API_KEY (or the bearer token this client sent).';
    case 403:
      return ' The API key is not allowed to do this.';
    case 429:
      return retryAfter !== undefined ? ` Retry after ${retryAfter}s.` : ' Slow down and retry later.';
    case 529:
      return ' Kernel has no capacity right now; retry later.';
    default:
      return status >= 500 ? ' This is a server-side failure; retrying later may help.' : '';
  }
}

interface ErrorBody {
  code?: unknown;
  message?: unknown;
  details?: { code?: unknown; message?: unknown }[];
  inner_error?: { code?: unknown; message?: unknown };
}

/** Builds the error for a non-2xx answer: `Kernel API 404 not_found: ... (GET /browsers/abc)`. */
export function apiError(
  method: string,
  path: string,
  status: number,
  body: Buffer,
  contentType: string | undefined,
  retryAfterSeconds?: number,
): KernelError {
  let code = STATUS_CODES[status] ?? `http_${status}`;
  let message = '';
  const text = body.toString('utf8');
  if (contentType?.includes('json') || text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as ErrorBody;
      if (typeof parsed.code === 'string' && parsed.code) code = parsed.code;
      if (typeof parsed.message === 'string') message = parsed.message;
      const extra = [...(parsed.details ?? []), ...(parsed.inner_error ? [parsed.inner_error] : [])]
        .map((d) => (typeof d.message === 'string' ? d.message : ''))
        .filter(Boolean);
      if (extra.length) message += ` (${extra.join('; ')})`;
    } catch {
      message = redact(text).slice(0, 300);
    }
  } else {
    // Redacted before the cut, which could fall inside a secret and leave its start.
    message = redact(text).slice(0, 300).trim();
  }
  const full = `Kernel API ${status} ${code}: ${message || 'no message'} (${method} ${path}).${hint(status, retryAfterSeconds)}`;
  return new KernelError('api', full, { method, path, status, code, retryAfterSeconds });
}
