/**
 * Connect errors -> tool errors: every code from a Connect body, codes inferred from bare HTTP statuses, what each
 * message tells the agent to do, the retry matrix, and failures with no answer (timeout, cancel, network).
 */
import { describe, expect, it } from 'vitest';
import { PROXY_POOL_CODES } from '../simulator/proxy-pool.js';
import { KernelError } from '../src/kernel/errors.js';
import {
  advice,
  CONNECT_CODES,
  CONNECT_HTTP_STATUS,
  type ConnectCode,
  codeForHttpStatus,
  connectError,
  mayRetry,
  ProxyPoolError,
  type ProxyPoolRpc,
  parseConnectError,
  transportError,
} from '../src/proxy-pool/errors.js';

const RPCS: ProxyPoolRpc[] = ['CreateSession', 'BulkCreateSessions', 'DeleteSession'];

/** A phrase each code's message must carry: the part that says what to do. */
const ACTION: Record<ConnectCode, RegExp> = {
  canceled: /canceled before it finished/,
  unknown: /unknown reason/,
  invalid_argument: /fix the field the message names/,
  deadline_exceeded: /did not finish in time/,
  not_found: /does not exist|No live session/,
  already_exists: /token/,
  permission_denied: /check workspace_id/,
  resource_exhausted: /Rate limited or out of quota/,
  failed_precondition: /Fix that state first/,
  aborted: /concurrent change/,
  out_of_range: /outside its valid range/,
  unimplemented: /KERNEL_PROXY_POOL_URL does not offer proxies\.v1\.Proxies\//,
  internal: /failed internally/,
  unavailable: /overloaded or down for a moment/,
  data_loss: /data loss/,
  unauthenticated: /check KERNEL_API_KEY/,
};

describe('Connect error codes', () => {
  it('has the sixteen Connect codes with the protocol HTTP statuses, as the simulator does', () => {
    expect(CONNECT_CODES).toHaveLength(16);
    expect(Object.fromEntries(PROXY_POOL_CODES.map(([code, , status]) => [code, status]))).toEqual(CONNECT_HTTP_STATUS);
  });

  it.each(CONNECT_CODES.flatMap((code) => RPCS.map((rpc) => [code, rpc] as const)))(
    '%s on %s becomes a tool error that says what happened and what to do',
    (code, rpc) => {
      const status = CONNECT_HTTP_STATUS[code];
      const err = connectError(rpc, status, JSON.stringify({ code, message: `detail for ${code}` }));
      expect(err).toBeInstanceOf(ProxyPoolError);
      expect(err).toBeInstanceOf(KernelError);
      expect(err.connectCode).toBe(code);
      expect(err.code).toBe(code);
      expect(err.status).toBe(status);
      expect(err.message).toContain(`Proxy-pool service ${code} (HTTP ${status}, ${rpc}): detail for ${code}.`);
      expect(err.message).toMatch(ACTION[code]);
      // Every message says what happened to the state.
      expect(err.message).toMatch(/No session was created|was not deleted|may or may not have been/);
    },
  );

  it('gives each code its own advice', () => {
    for (const rpc of RPCS) {
      const texts = CONNECT_CODES.map((c) => advice(c, rpc));
      expect(new Set(texts).size).toBe(CONNECT_CODES.length);
    }
  });

  it('tells the agent CreateSession was not retried and how to check whether it took effect', () => {
    expect(advice('unavailable', 'CreateSession')).toMatch(/did not retry.*already_exists then means/);
    expect(advice('deadline_exceeded', 'CreateSession')).toMatch(/did not retry/);
    expect(advice('unavailable', 'BulkCreateSessions')).toMatch(/already retried.*safe/);
    expect(advice('not_found', 'DeleteSession')).toMatch(/already deleted/);
    expect(advice('invalid_argument', 'BulkCreateSessions')).toMatch(/all or nothing/);
  });
});

describe('reading error answers', () => {
  it('takes the code and message from a Connect body', () => {
    expect(parseConnectError(400, '{"code":"failed_precondition","message":"pool disabled"}')).toEqual({
      code: 'failed_precondition',
      message: 'pool disabled',
      fromBody: true,
    });
  });

  it.each([
    [400, 'internal'],
    [401, 'unauthenticated'],
    [403, 'permission_denied'],
    [404, 'unimplemented'],
    [429, 'unavailable'],
    [502, 'unavailable'],
    [503, 'unavailable'],
    [504, 'unavailable'],
    [500, 'unknown'],
    [418, 'unknown'],
  ] as const)('infers the code of a bare HTTP %i as %s', (status, code) => {
    expect(codeForHttpStatus(status)).toBe(code);
    expect(parseConnectError(status, '').code).toBe(code);
    expect(parseConnectError(status, '<html>Bad gateway</html>')).toMatchObject({ code, fromBody: false });
  });

  it('infers the code when the body is JSON but not a Connect error (the shared auth check)', () => {
    const parsed = parseConnectError(401, '{"code":"unauthorized","message":"invalid API key"}');
    expect(parsed).toEqual({ code: 'unauthenticated', message: 'invalid API key', fromBody: false });
    expect(connectError('CreateSession', 401, '{"code":"unauthorized","message":"invalid API key"}').message).toMatch(
      /^Proxy-pool service unauthenticated \(HTTP 401, CreateSession\): invalid API key\. .*KERNEL_API_KEY/,
    );
  });

  it('says so when there is no message', () => {
    expect(connectError('DeleteSession', 503, '').message).toMatch(
      /unavailable \(HTTP 503, DeleteSession\): no message\./,
    );
  });
});

describe('retry rules', () => {
  it('retries only unavailable and resource_exhausted, and never CreateSession', () => {
    const retried = (rpc: ProxyPoolRpc) => CONNECT_CODES.filter((c) => mayRetry(rpc, c));
    expect(retried('CreateSession')).toEqual([]);
    expect(retried('BulkCreateSessions')).toEqual(['resource_exhausted', 'unavailable']);
    expect(retried('DeleteSession')).toEqual(['resource_exhausted', 'unavailable']);
  });
});

describe('failures with no answer', () => {
  const base = 'http://pool.test';
  const at = { method: 'POST', path: '/proxies.v1.Proxies/CreateSession' };

  it('maps a timeout to deadline_exceeded', () => {
    const err = transportError('CreateSession', new KernelError('timeout', 'x', at), base) as ProxyPoolError;
    expect(err.connectCode).toBe('deadline_exceeded');
    expect(err.message).toMatch(/did not answer in time.*did not retry.*KERNEL_TIMEOUT_MS/);
  });

  it('maps a cancellation to canceled', () => {
    const err = transportError('DeleteSession', new KernelError('aborted', 'x', at), base) as ProxyPoolError;
    expect(err.connectCode).toBe('canceled');
  });

  it('maps a connection failure to unavailable and names the URL', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const err = transportError(
      'BulkCreateSessions',
      new KernelError('network', 'x', { ...at, cause }),
      base,
    ) as ProxyPoolError;
    expect(err.connectCode).toBe('unavailable');
    expect(err.message).toContain('could not reach the proxy-pool service at http://pool.test (ECONNREFUSED)');
    expect(err.message).toMatch(/KERNEL_PROXY_POOL_URL/);
  });

  it('passes other errors through', () => {
    const plain = new Error('boom');
    expect(transportError('CreateSession', plain, base)).toBe(plain);
    const already = connectError('CreateSession', 503, '');
    expect(transportError('CreateSession', already, base)).toBe(already);
  });
});
