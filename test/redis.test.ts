/**
 * Several instances as one (--redis-url): two kernel-mcp HTTP instances in front of one simulator, sharing a real
 * redis-server. A change made through one instance reaches the listening clients of both eras on the other, never
 * another tenant's; Redis down at start stops the server; Redis lost while running turns /healthz to 503 with the
 * reason, and its return brings sharing back without a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../simulator/index.js';
import { closeAll, type HttpServerProcess, keyRouter, startHttp } from './helpers/http.js';
import { ERAS } from './helpers/mcp.js';
import { type RedisServer, redisUnavailable, startRedis } from './helpers/redis.js';
import { connect, createBrowser, type Watcher } from './helpers/watch.js';

const KEY = 'sk_redis_shared_server_key_0123456789';
const skip = redisUnavailable();

async function health(srv: HttpServerProcess): Promise<{ status: number; body: { status: string; reason?: string } }> {
  const res = await fetch(srv.url.replace(/\/mcp$/, '/healthz'));
  return { status: res.status, body: (await res.json()) as { status: string; reason?: string } };
}

/** Polls /healthz until it answers `status` (a deadline, not a timing). */
async function healthBecomes(srv: HttpServerProcess, status: number) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const h = await health(srv);
    if (h.status === status) return h;
    if (Date.now() > deadline) throw new Error(`/healthz stayed ${h.status} ${JSON.stringify(h.body)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function closeWatchers(watchers: Watcher[]) {
  for (const w of watchers) await w.close().catch(() => {});
}

describe.skipIf(skip)('two instances sharing Redis', () => {
  let redis: RedisServer;
  let sim: Simulator;
  let a: HttpServerProcess;
  let b: HttpServerProcess;
  beforeAll(async () => {
    redis = await startRedis();
    sim = await startSimulator({ apiKey: KEY });
    const options = { args: ['--redis-url', redis.url], env: { KERNEL_API_KEY: KEY, KERNEL_BASE_URL: sim.url } };
    [a, b] = await Promise.all([startHttp(options), startHttp(options)]);
  });
  afterAll(() => closeAll(a, b, sim, redis));

  it.each(ERAS)('a browser created through one instance is announced to %s clients on the other', async (era) => {
    const watchers: Watcher[] = [];
    try {
      const onB = await connect(era, 'http', { url: b.url });
      const onA = await connect(era, 'http', { url: a.url });
      watchers.push(onB, onA);
      const heard = [onB, onA].map((w) => w.heard.next('list_changed', `list_changed on ${w === onB ? 'B' : 'A'}`));
      const id = await createBrowser(onA.mcp);
      await Promise.all(heard);
      // Each instance announces once per change: the client on A heard it once, not once locally and once from Redis.
      expect(onA.heard.count('list_changed')).toBe(1);
      const listed = await onB.mcp.client.listResources();
      expect(listed.resources.map((r) => r.uri)).toContain(`kernel://browsers/${id}/telemetry`);

      // A resource update for a stream watched through B, of a browser created through A.
      const uri = `kernel://browsers/${id}/telemetry`;
      await onB.watch(uri);
      const updated = onB.heard.next(`updated ${uri}`);
      expect(sim.emitTelemetry(id, { type: 'redis_cross_instance' })).toBeDefined();
      await updated;
    } finally {
      await closeWatchers(watchers);
    }
  });

  it('Redis lost while running: /healthz 503 with the reason, then sharing again once it is back', async () => {
    expect((await health(a)).status).toBe(200);
    await redis.stop();
    try {
      for (const srv of [a, b]) {
        const h = await healthBecomes(srv, 503);
        expect(h.body.status).toBe('degraded');
        expect(h.body.reason).toContain(`Redis at ${redis.url} is unreachable`);
      }
    } finally {
      await redis.start();
    }
    await Promise.all([healthBecomes(a, 200), healthBecomes(b, 200)]);
    const watchers: Watcher[] = [];
    try {
      const onB = await connect('modern', 'http', { url: b.url });
      const onA = await connect('legacy', 'http', { url: a.url });
      watchers.push(onB, onA);
      const heard = onB.heard.next('list_changed', 'list_changed on B after Redis came back');
      await createBrowser(onA.mcp);
      await heard;
    } finally {
      await closeWatchers(watchers);
    }
  });
});

describe.skipIf(skip)('two passthrough instances sharing Redis: a key hears only its own changes', () => {
  const KEY_A = 'sk_redis_alice_0123456789abcdef';
  const KEY_B = 'sk_redis_bob_9876543210fedcba';
  let redis: RedisServer;
  let simA: Simulator;
  let simB: Simulator;
  let router: Awaited<ReturnType<typeof keyRouter>>;
  let one: HttpServerProcess;
  let two: HttpServerProcess;
  beforeAll(async () => {
    redis = await startRedis();
    simA = await startSimulator({ seed: 1 });
    simB = await startSimulator({ seed: 2 });
    router = await keyRouter({ [KEY_A]: simA, [KEY_B]: simB });
    const args = ['--auth', 'passthrough', '--base-url', router.url, '--redis-url', redis.url];
    [one, two] = await Promise.all([startHttp({ args }), startHttp({ args })]);
  });
  afterAll(() => closeAll(one, two, router, simA, simB, redis));

  it("A's change through one instance reaches A's clients on the other, and none of B's", async () => {
    const watchers: Watcher[] = [];
    try {
      const aModern = await connect('modern', 'http', { url: two.url, key: KEY_A });
      const aLegacy = await connect('legacy', 'http', { url: two.url, key: KEY_A });
      const bModern = await connect('modern', 'http', { url: two.url, key: KEY_B });
      const bLegacy = await connect('legacy', 'http', { url: two.url, key: KEY_B });
      const aMaker = await connect('modern', 'http', { url: one.url, key: KEY_A });
      const bMaker = await connect('legacy', 'http', { url: one.url, key: KEY_B });
      watchers.push(aModern, aLegacy, bModern, bLegacy, aMaker, bMaker);

      const heardByA = [aModern, aLegacy].map((w) => w.heard.next('list_changed', "A's list_changed"));
      await createBrowser(aMaker.mcp);
      await Promise.all(heardByA);
      // B's own change after A's was delivered: had A's reached B's streams, it would have arrived first.
      const heardByB = [bModern, bLegacy].map((w) => w.heard.next('list_changed', "B's list_changed"));
      await createBrowser(bMaker.mcp);
      await Promise.all(heardByB);
      expect(bModern.heard.events).toEqual(['list_changed']);
      expect(bLegacy.heard.events).toEqual(['list_changed']);
      expect(aModern.heard.events).toEqual(['list_changed']);
    } finally {
      await closeWatchers(watchers);
    }
  });
});

describe.skipIf(skip)('Redis down at start', () => {
  it('the server says it cannot reach Redis and exits, with no fall-back to memory', async () => {
    const redis = await startRedis();
    await redis.stop();
    const started = startHttp({
      args: ['--redis-url', `redis://user:s3cret@127.0.0.1:${redis.port}`],
      env: { KERNEL_API_KEY: KEY, KERNEL_BASE_URL: 'http://127.0.0.1:9' },
    });
    const err = await started.then(
      () => new Error('the server started without Redis'),
      (e: Error) => e,
    );
    expect(err.message).toContain(`exited with 2 before listening`);
    expect(err.message).toContain(`cannot reach Redis at redis://127.0.0.1:${redis.port} (--redis-url)`);
    expect(err.message).not.toContain('s3cret');
  });
});
