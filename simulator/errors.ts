/** Errors answered with the spec's `Error` body: `{ code, message, details?, inner_error? }`. */

export interface ErrorDetail {
  code: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
    /** Extra top-level body fields (e.g. `existing_id` on the auth-connection 409). */
    readonly extra?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    const body: Record<string, unknown> = { code: this.code, message: this.message };
    if (this.details && this.details.length > 0) body['details'] = this.details;
    return { ...body, ...this.extra };
  }
}

export const badRequest = (message: string, details?: ErrorDetail[]): ApiError =>
  new ApiError(400, 'bad_request', message, details);

export const notFound = (what: string, id: string): ApiError =>
  new ApiError(404, 'not_found', `${what} '${id}' not found`);

export const conflict = (message: string, extra?: Record<string, unknown>): ApiError =>
  new ApiError(409, 'conflict', message, undefined, extra);

export const forbidden = (message: string): ApiError => new ApiError(403, 'forbidden', message);

export const gone = (message: string): ApiError => new ApiError(410, 'gone', message);

export const unprocessable = (message: string): ApiError => new ApiError(422, 'unprocessable_entity', message);

export const tooManyRequests = (message: string, retryAfterSeconds: number): ApiError =>
  new ApiError(429, 'rate_limited', message, undefined, undefined, { 'retry-after': String(retryAfterSeconds) });
