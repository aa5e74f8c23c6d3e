/**
 * Calls to the proxy-pool service (Connect protocol, unary, JSON): `POST {base}/proxies.v1.Proxies/<Rpc>` with
 * `Content-Type: application/json` and `Connect-Protocol-Version: 1`, through the one Kernel client (its connection
 * pool, API key, timeouts, cancellation and redaction) pointed at KERNEL_PROXY_POOL_URL.
 */
import type { Config } from '../config.js';
import type { KernelClient } from '../kernel/client.js';
import type { Logger } from '../log.js';
import {
  connectError,
  mayRetry,
  ProxyPoolError,
  type ProxyPoolRpc,
  parseConnectError,
  transportError,
} from './errors.js';
import { proxyPoolUnavailableMessage } from './toolset.js';

export const SERVICE_PATH = '/proxies.v1.Proxies/';

/**
 * One proxy-pool client per Kernel client: a passthrough-auth server has a Kernel client per API key, and each
 * key's proxy-pool calls must carry that key, so the cache is keyed by the Kernel client itself.
 */
const clients = new WeakMap<KernelClient, { url: string; client: KernelClient }>();

export function proxyPoolClient(kernel: KernelClient, url: string): KernelClient {
  const cached = clients.get(kernel);
  if (cached && cached.url === url) return cached.client;
  const client = kernel.withOptions({ baseUrl: url, headers: { 'connect-protocol-version': '1' } });
  clients.set(kernel, { url, client });
  return client;
}

export interface RpcContext {
  client: KernelClient;
  config: Config;
  logger: Logger;
  signal: AbortSignal;
}

/**
 * Sends one unary call and returns the answer's JSON object. CreateSession is sent exactly once;
 * BulkCreateSessions and DeleteSession are retried (bounded by KERNEL_MAX_RETRIES, with backoff) on `unavailable`
 * and `resource_exhausted` only, and on connection failures (which Connect clients report as `unavailable`).
 */
export async function callRpc(
  ctx: RpcContext,
  rpc: ProxyPoolRpc,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const url = ctx.config.proxyPoolUrl;
  if (!url) throw new Error(proxyPoolUnavailableMessage());
  const client = proxyPoolClient(ctx.client, url);
  const idempotent = rpc !== 'CreateSession';
  ctx.logger.debug('proxy-pool call', { rpc });
  let data: unknown;
  try {
    ({ data } = await client.json({
      method: 'POST',
      path: SERVICE_PATH + rpc,
      json: body,
      headers: { 'connect-timeout-ms': String(ctx.config.timeoutMs) },
      signal: ctx.signal,
      retry: idempotent,
      mapError: (res) => {
        const { code } = parseConnectError(res.status, res.body);
        const retryable = mayRetry(rpc, code);
        if (retryable) ctx.logger.debug('proxy-pool call failed, may retry', { rpc, code, status: res.status });
        return { error: connectError(rpc, res.status, res.body), retryable };
      },
    }));
  } catch (err) {
    throw transportError(rpc, err, url);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    throw new ProxyPoolError(
      rpc,
      'unknown',
      `Proxy-pool service answered ${rpc} without a JSON object: check that KERNEL_PROXY_POOL_URL points at the proxy-pool service.`,
      { kind: 'invalid_response' },
    );
  }
  return data as Record<string, unknown>;
}
