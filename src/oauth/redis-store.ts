/**
 * `--auth oauth` with `--redis-url`: the built-in authorization server's state in Redis, so every instance serves
 * every client and a restart signs nobody out. On the shared state's command connection (src/http/shared.ts: no
 * offline queue, so a command fails at once while Redis is away and the request gets a 503, never a fall-back to
 * memory). Everything under `kernel-mcp:oauth:` and everything with a TTL:
 *
 *   kernel-mcp:oauth:<Model>:<id>            a hash: `payload` (oidc-provider's JSON) and `consumed` once consumed;
 *                                            TTL the model's own (access token, code, grant, session, ...); models
 *                                            the provider keeps for ever (registered clients) 30 days after their
 *                                            last use instead
 *   kernel-mcp:oauth:grant-index:<grantId>   a set of the record keys of a grant (revokeByGrantId); TTL its longest
 *   kernel-mcp:oauth:uid:<Model>:<uid>       the id of the record with that uid (sessions); the record's TTL
 *   kernel-mcp:oauth:user-code:<Model>:<c>   the id of the record with that user code; the record's TTL
 *   kernel-mcp:oauth:vault:<account>         a sealed Kernel API key (vault.ts: AES-256-GCM, never the key itself);
 *                                            the refresh-token lifetime, renewed on every use
 */
import type { ChainableCommander, Redis } from 'ioredis';
import type { SecretStore } from './vault.js';

export const OAUTH_PREFIX = 'kernel-mcp:oauth:';
/** A registered client is kept this long after it was last used (its tokens live far shorter). */
export const CLIENT_TTL_S = 30 * 24 * 3600;

/** Adds a record to its grant's index and stretches the index's TTL to the record's. KEYS: index; ARGV: key, TTL. */
const INDEX_GRANT = `
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 1
`;
/** Marks a record consumed, keeping its TTL; an expired record stays gone (no key without TTL). KEYS: record. */
const CONSUME = `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'consumed', ARGV[1]) return 1 end
return 0
`;
/** Deletes every record of a grant and its index, in one step (nothing issued meanwhile survives). KEYS: index. */
const REVOKE_GRANT = `
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do redis.call('DEL', key) end
return redis.call('DEL', KEYS[1])
`;

/** How the store tells what it cannot reach: an error the provider answers (503) and the gate recognises. */
export type Unavailable = (reason: string) => Error;

/** What a request that needs the OAuth state hears while Redis is unreachable. */
export function unavailableMessage(reason: string): string {
  return `OAuth state is unavailable: ${reason}; retry shortly`;
}

/** Whether `err` is the store's "Redis is unreachable" (see Unavailable). */
export function isUnavailable(err: unknown): boolean {
  return (err as { statusCode?: unknown } | undefined)?.statusCode === 503;
}

type Payload = Record<string, unknown>;

/** Runs a MULTI; its results, or the first command's error. */
async function exec(multi: ChainableCommander): Promise<unknown[]> {
  const results = (await multi.exec()) ?? [];
  const failed = results.find(([err]) => err);
  if (failed) throw failed[0];
  return results.map(([, value]) => value);
}

/**
 * An oidc-provider storage adapter class over Redis (the contract of the provider's own memory adapter, shared by
 * every instance). `unavailable` turns a Redis failure into the provider's `temporarily_unavailable` (503).
 */
export function redisAdapter(redis: Redis, unavailable: Unavailable) {
  const guard = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      throw unavailable(unavailableMessage(`Redis did not answer while ${what} (${(err as Error).message})`));
    }
  };
  return class RedisAdapter {
    constructor(readonly name: string) {}

    key(id: string) {
      return `${OAUTH_PREFIX}${this.name}:${id}`;
    }

    async upsert(id: string, payload: Payload, expiresIn?: number) {
      const key = this.key(id);
      const ttl = expiresIn && expiresIn > 0 ? Math.ceil(expiresIn) : CLIENT_TTL_S;
      const multi = redis.multi().del(key).hset(key, 'payload', JSON.stringify(payload)).expire(key, ttl);
      if (typeof payload.grantId === 'string') {
        multi.eval(INDEX_GRANT, 1, `${OAUTH_PREFIX}grant-index:${payload.grantId}`, key, ttl);
      }
      if (typeof payload.uid === 'string') multi.set(`${OAUTH_PREFIX}uid:${this.name}:${payload.uid}`, id, 'EX', ttl);
      if (typeof payload.userCode === 'string') {
        multi.set(`${OAUTH_PREFIX}user-code:${this.name}:${payload.userCode}`, id, 'EX', ttl);
      }
      await guard(`saving ${this.name}`, () => exec(multi));
    }

    async find(id: string): Promise<Payload | undefined> {
      const key = this.key(id);
      const record = await guard(`reading ${this.name}`, async () => {
        // A registered client lives on while it is used (a metadata document's client is fetched again daily).
        if (this.name !== 'Client' || /^https?:\/\//.test(id)) return redis.hgetall(key);
        const [fields] = await exec(redis.multi().hgetall(key).expire(key, CLIENT_TTL_S));
        return (fields ?? {}) as Record<string, string>;
      });
      if (!record.payload) return undefined;
      const payload = JSON.parse(record.payload) as Payload;
      if (record.consumed) payload.consumed = Number(record.consumed);
      return payload;
    }

    async findByUid(uid: string) {
      const id = await guard(`reading ${this.name} by uid`, () => redis.get(`${OAUTH_PREFIX}uid:${this.name}:${uid}`));
      return id ? this.find(id) : undefined;
    }

    async findByUserCode(userCode: string) {
      const id = await guard(`reading ${this.name} by user code`, () =>
        redis.get(`${OAUTH_PREFIX}user-code:${this.name}:${userCode}`),
      );
      return id ? this.find(id) : undefined;
    }

    async consume(id: string) {
      await guard(`consuming ${this.name}`, () => redis.eval(CONSUME, 1, this.key(id), Math.floor(Date.now() / 1000)));
    }

    async destroy(id: string) {
      await guard(`deleting ${this.name}`, () => redis.del(this.key(id)));
    }

    async revokeByGrantId(grantId: string) {
      await guard('revoking a grant', () => redis.eval(REVOKE_GRANT, 1, `${OAUTH_PREFIX}grant-index:${grantId}`));
    }
  };
}

/**
 * The vault's sealed keys in Redis (vault.ts seals them; this never sees a key in the clear). Kept for `ttlS` (the
 * refresh-token lifetime) from the sign-in and from every use, so a grant never outlives its key.
 */
export class RedisSecretStore implements SecretStore {
  constructor(
    private readonly redis: Redis,
    private readonly ttlS: number,
  ) {}
  async get(id: string) {
    return (await this.redis.getex(`${OAUTH_PREFIX}vault:${id}`, 'EX', this.ttlS)) ?? undefined;
  }
  async set(id: string, value: string) {
    await this.redis.set(`${OAUTH_PREFIX}vault:${id}`, value, 'EX', this.ttlS);
  }
}
