/**
 * Several instances as one: the 50 × 10 HTTP load (`browsers_retrieve`) with 2026-07-28 and 2025-era clients spread
 * over two `kernel-mcp --redis-url` instances sharing one redis-server, with no stickiness (each client's requests
 * go to the instances in turn, so every 2025 session is served by both), beside the same load against one instance
 * without Redis. Reports throughput, errors (which must be zero) and the two-instance : one-instance ratio.
 */
import { startRedis } from '../test/helpers/redis.js';
import { connectFetch, ERAS, type Era } from './clients.js';
import { clientLoad, type LoadRun } from './http-load.js';
import { type HttpServerChild, startHttpChild } from './http-server.js';
import { type Figure, round, stats } from './lib.js';

const ERA_NAME: Record<Era, string> = { modern: '2026-07-28', legacy: '2025-11-25' };

export interface SharedLoadRun extends LoadRun {
  era: Era;
  instances: number;
}

export interface SharedLoadResult {
  clients: number;
  callsPerClient: number;
  runs: SharedLoadRun[];
}

export interface SharedLoadOptions {
  simUrl: string;
  apiKey: string;
  token: string;
  browserId: string;
  /** The single instance (no Redis) to compare with. */
  single: { url: string };
  clients?: number;
  callsPerClient?: number;
  progress?: (line: string) => void;
}

/** A fetch that sends each request to the next of `urls` in turn, with the bearer token. */
function roundRobin(urls: string[], token: string) {
  let next = 0;
  return (input: string | URL, init?: RequestInit) => {
    const url = new URL(String(input));
    const target = new URL(urls[next++ % urls.length]!);
    url.host = target.host;
    url.protocol = target.protocol;
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${token}`);
    return fetch(url, { ...init, headers });
  };
}

async function load(urls: string[], o: SharedLoadOptions, era: Era, clients: number, perClient: number) {
  // Clients start on different instances; then each request goes to the next.
  const { times, errors, firstError, seconds } = await clientLoad(clients, perClient, o.browserId, (c) =>
    connectFetch(era, roundRobin([...urls.slice(c % urls.length), ...urls.slice(0, c % urls.length)], o.token)),
  );
  return {
    era,
    instances: urls.length,
    calls: clients * perClient,
    errors,
    ...(firstError ? { firstError: firstError.slice(0, 200) } : {}),
    seconds: round(seconds, 2),
    throughput: round((clients * perClient - errors) / seconds, 0),
    latency: stats(times),
  };
}

export async function sharedLoad(o: SharedLoadOptions): Promise<SharedLoadResult> {
  const clients = o.clients ?? 50;
  const perClient = o.callsPerClient ?? 10;
  const redis = await startRedis();
  const children: HttpServerChild[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      children.push(
        await startHttpChild({
          baseUrl: o.simUrl,
          apiKey: o.apiKey,
          token: o.token,
          extraArgs: ['--redis-url', redis.url],
        }),
      );
    }
    const pair = children.map((c) => c.url);
    const runs: SharedLoadRun[] = [];
    for (const era of ERAS) {
      // Take turns: which setup goes first alternates between the eras.
      const order = era === 'modern' ? [pair, [o.single.url]] : [[o.single.url], pair];
      for (const urls of order) {
        const r = await load(urls, o, era, clients, perClient);
        runs.push(r);
        o.progress?.(
          `  ${clients} × ${perClient}, ${ERA_NAME[era]}, ${urls.length} instance(s)${urls.length > 1 ? ' with Redis' : ''}: ` +
            `${r.throughput} calls/s, errors ${r.errors}`,
        );
      }
    }
    return { clients, callsPerClient: perClient, runs };
  } finally {
    for (const c of children) await c.stop().catch(() => {});
    await redis.close();
  }
}

export function sharedLoadFigures(r: SharedLoadResult): Figure[] {
  const figures: Figure[] = [];
  for (const era of ERAS) {
    const two = r.runs.find((x) => x.era === era && x.instances === 2);
    const one = r.runs.find((x) => x.era === era && x.instances === 1);
    if (!two || !one) continue;
    const shape = `${r.clients} × ${r.callsPerClient}, ${ERA_NAME[era]}`;
    figures.push({
      section: 'load',
      name: `two instances with Redis, ${shape}`,
      value: two.throughput,
      unit: 'calls/s',
      target: 'zero errors',
      met: two.errors === 0,
      note: `${two.errors} errors; ${round(two.throughput / one.throughput, 2)}× one instance (${one.throughput} calls/s, ${one.errors} errors)`,
    });
  }
  return figures;
}
