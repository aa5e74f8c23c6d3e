/**
 * Several instances as one (--redis-url): two kernel-mcp HTTP instances in front of one simulator, sharing a real
 * redis-server. A change made through one instance reaches the listening clients of both eras on the other, never
 * another tenant's; Redis down at start stops the server; Redis lost while running turns /healthz to 503 with the
 * reason, and its return brings sharing back without a restart.
 */
import type { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../simulator/index.js';
import {
  closeAll,
  connectHttp,
  type HttpServerProcess,
  INITIALIZE,
  keyRouter,
  legacyPost,
  startHttp,
} from './helpers/http.js';
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

/** A load balancer with no stickiness: each request goes to the next instance in turn, skipping those marked down. */
function balancer(instances: HttpServerProcess[]) {
  const served: { instance: number; method: string; session: boolean; status: number; lastEventId?: string }[] = [];
  const down = new Set<number>();
  let next = 0;
  /** While set, requests wait for it (the client cannot reach any instance). */
  const gate: { closed?: Promise<void> } = {};
  const route: typeof fetch = async (input, init) => {
    if (gate.closed) await gate.closed;
    const url = new URL(input instanceof Request ? input.url : String(input));
    for (let tries = 0; tries < instances.length; tries++) {
      const instance = next++ % instances.length;
      if (down.has(instance)) continue;
      url.host = new URL(instances[instance]!.url).host;
      const response = await fetch(url, init);
      const headers = new Headers(init?.headers);
      const session = headers.has('mcp-session-id');
      const lastEventId = headers.get('last-event-id') ?? undefined;
      served.push({ instance, method: init?.method ?? 'GET', session, status: response.status, lastEventId });
      return response;
    }
    throw new Error('no instance is up');
  };
  return { fetch: route, served, down, gate };
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

  it('a 2025 session whose requests alternate between the instances works, its GET stream included', async () => {
    const lb = balancer([a, b]);
    const w = await connect('legacy', 'http', { url: a.url, fetch: lb.fetch });
    try {
      const created = w.heard.next('list_changed', 'list_changed on the GET stream');
      const id = await createBrowser(w.mcp);
      await created;
      for (let i = 0; i < 4; i++) expect((await w.mcp.listTools()).length).toBeGreaterThan(0);
      const uri = `kernel://browsers/${id}/telemetry`;
      await w.watch(uri);
      const updated = w.heard.next(`updated ${uri}`);
      expect(sim.emitTelemetry(id, { type: 'redis_alternating' })).toBeDefined();
      await updated;
      // Every request after initialize carried the session to one instance or the other, and none was refused.
      const inSession = lb.served.filter((r) => r.session);
      expect(new Set(inSession.map((r) => r.instance))).toEqual(new Set([0, 1]));
      expect(inSession.filter((r) => r.status >= 400)).toEqual([]);

      // DELETE through one instance ends the session on both.
      const transport = (w.mcp.client as unknown as LegacyClient).transport as StreamableHTTPClientTransport;
      const sessionId = transport.sessionId!;
      await transport.terminateSession();
      for (const srv of [a, b]) {
        const after = await legacyPost(srv.url, { id: 9, method: 'tools/list' }, { 'mcp-session-id': sessionId });
        expect(after.status).toBe(404);
      }
    } finally {
      await w.close();
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
      // A new 2025 session needs the shared store: refused with the reason, not kept in one instance's memory.
      const refused = await legacyPost(a.url, INITIALIZE);
      expect(refused.status).toBe(503);
      expect(refused.body).toContain('the shared store (Redis) is unreachable');
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

describe.skipIf(skip)('kill -9 of the instance holding a 2025 GET stream', () => {
  let redis: RedisServer;
  let sim: Simulator;
  let instances: HttpServerProcess[];
  beforeAll(async () => {
    redis = await startRedis();
    sim = await startSimulator({ apiKey: KEY });
    const options = { args: ['--redis-url', redis.url], env: { KERNEL_API_KEY: KEY, KERNEL_BASE_URL: sim.url } };
    instances = await Promise.all([startHttp(options), startHttp(options)]);
  });
  afterAll(() => closeAll(...instances, sim, redis));

  it('the client resumes on the other instance with Last-Event-ID, losing no event and getting none twice', async () => {
    const lb = balancer(instances);
    const w = await connect('legacy', 'http', { url: instances[0]!.url, fetch: lb.fetch });
    const store = new Redis(redis.url);
    let other: Awaited<ReturnType<typeof connectHttp>> | undefined;
    try {
      // Requests alternate, so both instances serve the session.
      for (let i = 0; i < 3; i++) await w.mcp.listTools();
      const first = w.heard.next('list_changed', 'the first list_changed');
      await createBrowser(w.mcp);
      await first;
      const holder = lb.served.find((r) => r.method === 'GET' && r.status === 200)!.instance;
      const survivor = 1 - holder;
      const sessionId = ((w.mcp.client as unknown as LegacyClient).transport as StreamableHTTPClientTransport)
        .sessionId!;

      // The holder dies with the stream open; the client cannot reach anything until the change below is stored.
      let open!: () => void;
      lb.gate.closed = new Promise<void>((resolve) => {
        open = resolve;
      });
      lb.down.add(holder);
      instances[holder]!.proc.kill('SIGKILL');
      await instances[holder]!.exited;
      other = await connectHttp('modern', instances[survivor]!.url);
      await createBrowser(other);
      const log = `kernel-mcp:session:${sessionId}:events`;
      const changes = async () =>
        (await store.lrange(log, 0, -1)).filter((e) => e.includes('notifications/resources/list_changed')).length;
      for (let deadline = Date.now() + 15_000; (await changes()) < 2; ) {
        if (Date.now() > deadline) throw new Error('the change was never stored for the session');
        await new Promise((r) => setTimeout(r, 50));
      }
      const missed = w.heard.next('list_changed', 'the list_changed sent while the stream was down');
      lb.gate.closed = undefined;
      open();
      await missed;
      const resumed = lb.served.filter((r) => r.method === 'GET' && r.instance === survivor && r.lastEventId);
      expect(resumed.length).toBeGreaterThan(0);
      expect(resumed[0]!.status).toBe(200);

      // One more change: streams deliver in order, so a duplicate of the replayed one would have come before it.
      const third = w.heard.next('list_changed', 'the list_changed after the resume');
      await createBrowser(other);
      await third;
      expect(w.heard.count('list_changed')).toBe(3);
    } finally {
      lb.gate.closed = undefined;
      store.disconnect();
      await other?.close().catch(() => {});
      await w.close();
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
