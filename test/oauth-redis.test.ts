/**
 * `--auth oauth` with `--redis-url`: two built instances behind one public URL (a load balancer the test steers),
 * sharing a real redis-server. A client that registered and signed in on one instance is served by the other; its
 * refresh works on either; a restarted instance still knows it; revocation through one instance holds on both; Redis
 * holds no Kernel API key and nothing without a TTL; Redis lost gives 503s naming it, never a fall-back to memory.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../simulator/index.js';
import { closeAll, frontDoor, type HttpServerProcess, startHttp } from './helpers/http.js';
import { text } from './helpers/mcp.js';
import { connectOAuth, form, rawMcp, TestOAuthProvider, withToken } from './helpers/oauth.js';
import { type RedisServer, redisUnavailable, startRedis } from './helpers/redis.js';
import { waitFor } from './helpers/simulator-client.js';

const KEY = 'sk_oauth_redis_person_0123456789abcdef';
const SECRET = 'oauth-redis-secret-0123456789abcdef01234567';
const skip = redisUnavailable();

type Tokens = { access_token: string; refresh_token: string };

describe.skipIf(skip)('--auth oauth with two instances sharing Redis', () => {
  let redis: RedisServer;
  let sim: Simulator;
  let door: Awaited<ReturnType<typeof frontDoor>>;
  let a: HttpServerProcess;
  let b: HttpServerProcess;
  const start = () =>
    startHttp({
      args: [
        '--auth',
        'oauth',
        '--base-url',
        sim.url,
        '--redis-url',
        redis.url,
        // Both instances are the one public URL, as behind a load balancer.
        '--public-url',
        door.url,
        '--allowed-hosts',
        '127.0.0.1',
      ],
      env: { KERNEL_MCP_OAUTH_SECRET: SECRET },
    });
  beforeAll(async () => {
    redis = await startRedis();
    sim = await startSimulator({ apiKey: KEY });
    door = await frontDoor();
    [a, b] = await Promise.all([start(), start()]);
  }, 60_000);
  afterAll(() => closeAll(a, b, door, sim, redis));

  const mcp = () => `${door.url}/mcp`;
  /** Steers the load balancer to `instance`; answers a function that says whether only it served since. */
  const on = (instance: HttpServerProcess) => {
    door.use(instance);
    const mark = door.served.length;
    return () => door.served.length > mark && door.served.slice(mark).every((port) => port === instance.port);
  };
  const refresh = async (clientId: string, token: string) => {
    const res = await fetch(
      `${door.url}/oauth/token`,
      form({ grant_type: 'refresh_token', refresh_token: token, client_id: clientId }),
    );
    return { status: res.status, body: (await res.json()) as Tokens & { error?: string } };
  };
  /** A tool call with `token` reaches the Kernel API with the person's own key. */
  const callsKernel = async (token: string) => {
    const mark = sim.requests.length;
    const session = await withToken(mcp(), token);
    try {
      const listed = await session.call('browsers_list', {});
      expect(listed.isError, text(listed)).toBeFalsy();
    } finally {
      await session.close();
    }
    const seen = sim.requests.slice(mark).find((r) => r.method === 'GET' && r.path === '/browsers');
    expect(seen?.headers.authorization).toBe(`Bearer ${KEY}`);
  };

  it('signed in on A, served by B; refreshed on B, used on A; kept across a restart; revoked on both', async () => {
    // Registration and the authorization-code + PKCE flow, all on A.
    let onlyA = on(a);
    const provider = new TestOAuthProvider();
    await (await connectOAuth('modern', mcp(), KEY, provider, {}, () => a.stderr().slice(-3000))).close();
    expect(onlyA()).toBe(true);
    const clientId = String(provider.clientInfo?.client_id);
    const first = provider.savedTokens as Tokens;

    // B never saw this client: its token works there, and B refreshes it.
    const onlyB = on(b);
    await callsKernel(first.access_token);
    const second = await refresh(clientId, first.refresh_token);
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect(onlyB()).toBe(true);

    // The token B issued works on A.
    onlyA = on(a);
    await callsKernel(second.body.access_token);
    expect(onlyA()).toBe(true);

    // A restarted forgets nothing: the token still works and the grant still refreshes there.
    await a.stop();
    a = await start();
    const onlyNewA = on(a);
    await callsKernel(second.body.access_token);
    const third = await refresh(clientId, second.body.refresh_token);
    expect(third.status, JSON.stringify(third.body)).toBe(200);
    expect(onlyNewA()).toBe(true);

    // Revoking the refresh token on B revokes the whole grant: every access token of it is refused on both.
    on(b);
    const revoked = await fetch(
      `${door.url}/oauth/revoke`,
      form({ token: third.body.refresh_token, client_id: clientId }),
    );
    expect(revoked.status).toBe(200);
    for (const instance of [a, b]) {
      on(instance);
      for (const tokens of [first, second.body, third.body]) {
        const refused = await rawMcp(mcp(), `Bearer ${tokens.access_token}`);
        expect(refused.status).toBe(401);
        expect(refused.challenge).toMatch(/error="invalid_token"/);
      }
      const again = await refresh(clientId, third.body.refresh_token);
      expect(again.status).toBe(400);
      expect(again.body.error).toBe('invalid_grant');
    }
  }, 90_000);

  it('a client that did not ask for offline_access stays signed in when the sign-in page session ends', async () => {
    on(a);
    const provider = new TestOAuthProvider();
    await (await connectOAuth('legacy', mcp(), KEY, provider)).close();
    // The client asked for the kernel scopes only (as a connector may): no offline_access.
    expect(provider.authorizationUrl?.searchParams.get('scope')).not.toMatch(/offline_access/);
    const clientId = String(provider.clientInfo?.client_id);
    const tokens = provider.savedTokens as Tokens;
    // The authorization page's browser session ends (after an hour; here its record goes from Redis at once).
    const client = new Redis(redis.url);
    try {
      const sessions = (await client.keys('kernel-mcp:oauth:*')).filter((k) => k.split(':')[2] === 'Session');
      expect(sessions.length).toBeGreaterThan(0);
      await client.del(...sessions);
    } finally {
      client.disconnect();
    }
    // The grant does not hang on that session: the token still works, and refreshes on either instance.
    await callsKernel(tokens.access_token);
    const next = await refresh(clientId, tokens.refresh_token);
    expect(next.status, JSON.stringify(next.body)).toBe(200);
    on(b);
    await callsKernel(next.body.access_token);
    expect((await refresh(clientId, next.body.refresh_token)).status).toBe(200);
  });

  it('Redis holds the sealed key but never the key itself, and every OAuth key in it expires', async () => {
    // A grant of its own, so this test does not depend on the one above.
    on(b);
    await (await connectOAuth('modern', mcp(), KEY, new TestOAuthProvider())).close();
    const client = new Redis(redis.url);
    try {
      const keys = await client.keys('*');
      const oauth = keys.filter((k) => k.startsWith('kernel-mcp:oauth:'));
      const models = new Set(oauth.map((k) => k.split(':')[2]));
      for (const model of ['Client', 'Grant', 'AccessToken', 'RefreshToken', 'vault', 'grant-index']) {
        expect(models, `a ${model} is stored`).toContain(model);
      }
      let everything = '';
      for (const key of keys) {
        const type = await client.type(key);
        const values =
          type === 'string'
            ? [await client.get(key)]
            : type === 'hash'
              ? Object.entries(await client.hgetall(key)).flat()
              : type === 'set'
                ? await client.smembers(key)
                : type === 'list'
                  ? await client.lrange(key, 0, -1)
                  : [];
        everything += `${key}\n${values.join('\n')}\n`;
      }
      expect(everything).not.toContain(KEY);
      expect(everything).not.toContain(Buffer.from(KEY).toString('base64'));
      for (const key of oauth) expect(await client.ttl(key), `${key} has a TTL`).toBeGreaterThan(0);
    } finally {
      client.disconnect();
    }
  });

  it('Redis lost: token checks and OAuth endpoints answer 503 naming it, and work again once it is back', async () => {
    on(a);
    const provider = new TestOAuthProvider();
    await (await connectOAuth('modern', mcp(), KEY, provider)).close();
    const tokens = provider.savedTokens as Tokens;
    await redis.stop();
    try {
      // Polled until the instance has noticed; never an answer from memory (a 401: unknown token) meanwhile.
      const statuses: number[] = [];
      const refused = await waitFor(async () => {
        const r = await rawMcp(mcp(), `Bearer ${tokens.access_token}`);
        statuses.push(r.status);
        return r.status === 503 && r;
      }, 20_000);
      expect(statuses.filter((status) => status !== 503)).toEqual([]);
      // Named either way it is found out: by the shared state's health, or by the store's own call failing first.
      expect(refused.body).toMatch(
        /OAuth state is unavailable: Redis (at redis:\/\/127\.0\.0\.1:\d+ is unreachable|did not answer while )/,
      );
      const token = await refresh(String(provider.clientInfo?.client_id), tokens.refresh_token);
      expect(token.status).toBe(503);
      expect(token.body.error).toBe('temporarily_unavailable');
    } finally {
      await redis.start();
    }
    // Back (this Redis keeps nothing on disk, so the grant is gone with it): refusals are 401s again, not 503s.
    await waitFor(async () => (await rawMcp(mcp(), `Bearer ${tokens.access_token}`)).status === 401, 20_000);
  });
});
