/**
 * Connect errors of the proxy-pool service, as tool errors that say what happened and what to do.
 *
 * A Connect error answer is a non-200 status with a JSON body `{code, message, details?}`; when the body is missing
 * or is not a Connect error (a proxy, a gateway, the simulator's shared auth check), the code is inferred from the
 * HTTP status with the Connect protocol's HTTP-to-code table. Retries: only `unavailable` and `resource_exhausted`,
 * and only for the idempotent RPCs (BulkCreateSessions, DeleteSession); CreateSession is never retried.
 */
import { KernelError } from '../kernel/errors.js';

export const CONNECT_CODES = [
  'canceled',
  'unknown',
  'invalid_argument',
  'deadline_exceeded',
  'not_found',
  'already_exists',
  'permission_denied',
  'resource_exhausted',
  'failed_precondition',
  'aborted',
  'out_of_range',
  'unimplemented',
  'internal',
  'unavailable',
  'data_loss',
  'unauthenticated',
] as const;
export type ConnectCode = (typeof CONNECT_CODES)[number];

/** The HTTP status each code is sent with (Connect protocol, "Error Codes"). */
export const CONNECT_HTTP_STATUS: Record<ConnectCode, number> = {
  canceled: 499,
  unknown: 500,
  invalid_argument: 400,
  deadline_exceeded: 504,
  not_found: 404,
  already_exists: 409,
  permission_denied: 403,
  resource_exhausted: 429,
  failed_precondition: 400,
  aborted: 409,
  out_of_range: 400,
  unimplemented: 501,
  internal: 500,
  unavailable: 503,
  data_loss: 500,
  unauthenticated: 401,
};

export type ProxyPoolRpc = 'CreateSession' | 'BulkCreateSessions' | 'DeleteSession';

export const RETRYABLE_CODES: ReadonlySet<ConnectCode> = new Set(['unavailable', 'resource_exhausted']);

/** Whether kernel-mcp retries this code for this RPC: never CreateSession (not idempotent). */
export function mayRetry(rpc: ProxyPoolRpc, code: ConnectCode): boolean {
  return rpc !== 'CreateSession' && RETRYABLE_CODES.has(code);
}

export function isConnectCode(value: unknown): value is ConnectCode {
  return typeof value === 'string' && (CONNECT_CODES as readonly string[]).includes(value);
}

/** Connect's "HTTP to Error Code" table, for error answers without a Connect error body. */
export function codeForHttpStatus(status: number): ConnectCode {
  switch (status) {
    case 400:
      return 'internal';
    case 401:
      return 'unauthenticated';
    case 403:
      return 'permission_denied';
    case 404:
      return 'unimplemented';
    case 429:
    case 502:
    case 503:
    case 504:
      return 'unavailable';
    default:
      return 'unknown';
  }
}

/** What it means for the state: nothing happened, or the call may have taken effect. */
const NOTHING_CHANGED: ReadonlySet<ConnectCode> = new Set([
  'invalid_argument',
  'not_found',
  'already_exists',
  'permission_denied',
  'resource_exhausted',
  'failed_precondition',
  'aborted',
  'out_of_range',
  'unimplemented',
  'unauthenticated',
]);

function unchanged(rpc: ProxyPoolRpc): string {
  if (rpc === 'CreateSession') return 'No session was created.';
  if (rpc === 'BulkCreateSessions') return 'No session was created (bulk creation is all or nothing).';
  return 'The session was not deleted.';
}

function maybeChanged(rpc: ProxyPoolRpc): string {
  if (rpc === 'CreateSession') {
    return 'The session may or may not have been created, and kernel-mcp did not retry (CreateSession is not idempotent): call again with the same token; already_exists then means the first call created it.';
  }
  if (rpc === 'BulkCreateSessions') {
    return 'The sessions may or may not have been created; calling again with the same request is safe (idempotent on pool and token) and returns them.';
  }
  return 'The session may or may not have been deleted; calling again is safe (not_found then means it is gone).';
}

function whatToDo(code: ConnectCode, rpc: ProxyPoolRpc): string {
  switch (code) {
    case 'canceled':
      return 'The call was canceled before it finished. Call again if it is still wanted.';
    case 'unknown':
      return 'The service failed for an unknown reason. Retrying later may help; if it keeps failing, check KERNEL_PROXY_POOL_URL and report it.';
    case 'invalid_argument':
      return 'The service rejected the request as invalid: fix the field the message names and call again.';
    case 'deadline_exceeded':
      return 'The service did not finish in time (KERNEL_TIMEOUT_MS bounds each call).';
    case 'not_found':
      return rpc === 'DeleteSession'
        ? 'No live session has this id in this workspace: it was never created, was already deleted, or belongs to another workspace. If you meant to delete it, it is gone: nothing more to do.'
        : 'The workspace, pool or provider does not exist or is not visible to this API key: check workspace_id, pool_id and provider_id (if every call fails like this, check KERNEL_PROXY_POOL_URL).';
    case 'already_exists':
      return rpc === 'BulkCreateSessions'
        ? 'A session in the request has the token of a live session in the pool with different settings; bulk creation is idempotent only for identical sessions. Use new tokens for changed sessions, or delete the old ones first.'
        : 'A live session with this token already exists in the pool. Use another token, or delete the existing session first (if an earlier call with this token failed with unavailable or a timeout, that call did create it).';
    case 'permission_denied':
      return 'The API key may not do this in this workspace: check workspace_id, or use a key that belongs to that workspace.';
    case 'resource_exhausted':
      return rpc === 'CreateSession'
        ? 'Rate limited or out of quota. Wait before calling again (kernel-mcp does not retry CreateSession); if it is a quota, delete sessions you no longer need.'
        : 'Rate limited or out of quota; kernel-mcp already retried with backoff. Wait before calling again; if it is a quota, delete sessions you no longer need.';
    case 'failed_precondition':
      return 'The workspace, pool or provider is not in a state that allows this (for example disabled). Fix that state first; calling again unchanged fails the same way.';
    case 'aborted':
      return 'The operation was aborted by a concurrent change (a transaction conflict). Call again.';
    case 'out_of_range':
      return 'A value is outside its valid range (the message says which). Fix it and call again.';
    case 'unimplemented':
      return `The service at KERNEL_PROXY_POOL_URL does not offer proxies.v1.Proxies/${rpc}: check that the URL points at the proxy-pool service (not the Kernel API) and that the service is recent enough.`;
    case 'internal':
      return 'The service failed internally. Retrying later may help; if it persists, report it.';
    case 'unavailable':
      return rpc === 'CreateSession'
        ? 'The service is overloaded or down for a moment: wait a little before calling again.'
        : 'The service is overloaded or down for a moment, and kernel-mcp already retried with backoff: wait a little before calling again.';
    case 'data_loss':
      return 'The service reports unrecoverable data loss or corruption. Do not retry blindly: check the pool and report it.';
    case 'unauthenticated':
      return 'The service did not accept the API key: check KERNEL_API_KEY (the same key is sent to KERNEL_PROXY_POOL_URL).';
  }
}

/** The whole advice for a code: what to do, then what happened to the state. */
export function advice(code: ConnectCode, rpc: ProxyPoolRpc): string {
  return `${whatToDo(code, rpc)} ${NOTHING_CHANGED.has(code) ? unchanged(rpc) : maybeChanged(rpc)}`;
}

export class ProxyPoolError extends KernelError {
  readonly connectCode: ConnectCode;
  readonly rpc: ProxyPoolRpc;

  constructor(
    rpc: ProxyPoolRpc,
    code: ConnectCode,
    message: string,
    init: { status?: number; retryAfterSeconds?: number; cause?: unknown; kind?: KernelError['kind'] },
  ) {
    super(init.kind ?? 'api', message, {
      method: 'POST',
      path: `/proxies.v1.Proxies/${rpc}`,
      code,
      ...(init.status !== undefined ? { status: init.status } : {}),
      ...(init.retryAfterSeconds !== undefined ? { retryAfterSeconds: init.retryAfterSeconds } : {}),
      ...(init.cause !== undefined ? { cause: init.cause } : {}),
    });
    this.name = 'ProxyPoolError';
    this.connectCode = code;
    this.rpc = rpc;
  }
}

/** Reads a Connect error answer: its code (from the body, else inferred from the status) and message. */
export function parseConnectError(
  status: number,
  body: Buffer | string,
): { code: ConnectCode; message: string; fromBody: boolean } {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = text.trim() ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  const obj = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  const message = typeof obj.message === 'string' ? obj.message.trim() : parsed === undefined ? text.trim() : '';
  if (isConnectCode(obj.code)) return { code: obj.code, message, fromBody: true };
  return { code: codeForHttpStatus(status), message, fromBody: false };
}

/** The tool error for a Connect error answer. */
export function connectError(
  rpc: ProxyPoolRpc,
  status: number,
  body: Buffer | string,
  retryAfterSeconds?: number,
): ProxyPoolError {
  const { code, message } = parseConnectError(status, body);
  const said = message ? message.slice(0, 500).replace(/\.?$/, '.') : 'no message.';
  const text = `Proxy-pool service ${code} (HTTP ${status}, ${rpc}): ${said} ${advice(code, rpc)}`;
  return new ProxyPoolError(rpc, code, text, {
    status,
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
  });
}

function causeOf(err: KernelError): string {
  const cause = err.cause as { code?: unknown; message?: unknown } | undefined;
  const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : '';
  return detail ? ` (${detail})` : '';
}

/**
 * Failures with no answer (timeout, cancellation, connection failure) in the same vocabulary: what the Connect
 * clients call deadline_exceeded, canceled and unavailable. Other errors pass through unchanged.
 */
export function transportError(rpc: ProxyPoolRpc, err: unknown, baseUrl: string): unknown {
  if (err instanceof ProxyPoolError || !(err instanceof KernelError)) return err;
  const where = `the proxy-pool service at ${baseUrl}`;
  switch (err.kind) {
    case 'timeout':
      return new ProxyPoolError(
        rpc,
        'deadline_exceeded',
        `Proxy-pool service deadline_exceeded (${rpc}): ${where} did not answer in time. ${advice('deadline_exceeded', rpc)} Raise KERNEL_TIMEOUT_MS if the service is slow.`,
        { kind: 'timeout', cause: err },
      );
    case 'aborted':
      return new ProxyPoolError(
        rpc,
        'canceled',
        `Proxy-pool service canceled (${rpc}): the request was cancelled by the client. ${maybeChanged(rpc)}`,
        { kind: 'aborted', cause: err },
      );
    case 'network':
      return new ProxyPoolError(
        rpc,
        'unavailable',
        `Proxy-pool service unavailable (${rpc}): could not reach ${where}${causeOf(err)}. Check KERNEL_PROXY_POOL_URL and the network. ${rpc === 'CreateSession' ? maybeChanged(rpc) : 'kernel-mcp already retried; calling again is safe.'}`,
        { kind: 'network', cause: err },
      );
    case 'invalid_response':
      return new ProxyPoolError(
        rpc,
        'unknown',
        `Proxy-pool service answered invalid JSON (${rpc}): check that KERNEL_PROXY_POOL_URL points at the proxy-pool service. ${maybeChanged(rpc)}`,
        { kind: 'invalid_response', cause: err },
      );
    default:
      return err;
  }
}
