/**
 * What several HTTP instances share through Redis (`--redis-url`): change announcements, per tenant. A tenant's
 * `resources/list_changed` is published on its own channel (`kernel-mcp:changes:<tenant key>`, the key being the
 * SHA-256 hash a passthrough tenant is found by, never the API key itself); every instance that serves that tenant
 * is subscribed to the channel and delivers the announcement to its own clients of both eras. Instances serving
 * other tenants never subscribe to it.
 *
 * Resource updates need no fan-out: they come from the Kernel API's streams, which each instance watches itself for
 * the clients it serves, so a change made through any instance reaches them from the API.
 *
 * Two connections (a subscriber connection can do nothing else). Reconnection is ioredis's, with backoff; while
 * either connection is down `health()` names the reason (the server answers /healthz with 503) and announcements
 * reach this instance's own clients only.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { ConfigError } from '../config.js';
import type { Logger } from '../log.js';

const CHANNEL = 'kernel-mcp:changes:';
const CHANGED = 'resources_list_changed';
/** A 2025 session's record (`<id>`) and its resource subscriptions (`<id>:subs`, a set of URIs). */
const SESSION = 'kernel-mcp:session:';
/** `end <id>` (DELETEd through some instance) and `subs <id>` (its subscriptions changed). */
const SESSION_EVENTS = 'kernel-mcp:sessions';
/** Reconnection backoff: 100 ms, 200 ms, ... up to 2 s between attempts, for ever. */
const backoff = (times: number) => Math.min(times * 100, 2000);

export type SharedHealth = { ok: true } | { ok: false; reason: string };

/** What any instance needs to serve a 2025 session another created. */
export interface SessionRecord {
  /** The tenant's channel key (see sharedTenantKey): only the same tenant may use the session. */
  tenant: string;
  /** The client's initialize request: protocol version, capabilities, client info. */
  initialize: unknown;
}

export type SessionEvent = 'end' | 'subs';

/**
 * Appends a message to a session's GET-stream log, unless the same message was appended within the window: every
 * instance serving the session produces its notifications (each hears the tenant's announcements and watches its
 * subscriptions), and the first one stored stands for all (the others get its sequence number back); `force` stores
 * it regardless (an instance producing the same message twice means two events). Then trims the log to its bound and
 * renews the TTLs. KEYS: log, sequence, recent; ARGV: message, window ms, max events, TTL ms, force.
 */
const STORE_EVENT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local prev = ARGV[5] ~= '1' and redis.call('HGET', KEYS[3], ARGV[1])
if prev then
  local sep = string.find(prev, ':', 1, true)
  if now - tonumber(string.sub(prev, sep + 1)) < tonumber(ARGV[2]) then return tonumber(string.sub(prev, 1, sep - 1)) end
end
local seq = redis.call('INCR', KEYS[2])
redis.call('RPUSH', KEYS[1], seq .. ' ' .. ARGV[1])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[3]), -1)
redis.call('HSET', KEYS[3], ARGV[1], seq .. ':' .. now)
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
return seq
`;

/** `redis://user:pass@host:port/db` as `redis://host:port/db`: a URL for messages, without its credentials. */
export function redisLocation(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return 'the Redis URL';
  }
}

/** The channel key of the shared tenant (token or no auth): the upstream account, hashed, so accounts never mix. */
export function sharedTenantKey(baseUrl: string, apiKey: string | undefined): string {
  return `shared:${createHash('sha256')
    .update(`${baseUrl}\n${apiKey ?? ''}`)
    .digest('hex')
    .slice(0, 32)}`;
}

export class SharedState {
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #logger: Logger;
  readonly #where: string;
  readonly #listeners = new Map<string, Set<() => void>>();
  #onSession: ((event: SessionEvent, id: string) => void) | undefined;
  #lastError = '';
  #closed = false;

  private constructor(url: string, logger: Logger) {
    this.#logger = logger;
    this.#where = redisLocation(url);
    const options = { lazyConnect: true, retryStrategy: backoff, maxRetriesPerRequest: 1 };
    // Publishing while Redis is away fails at once (the caller delivers locally) instead of queueing.
    this.#pub = new Redis(url, { ...options, enableOfflineQueue: false });
    // Subscriptions made while away are queued and, with those held, made again on reconnection.
    this.#sub = new Redis(url, options);
    for (const [name, conn] of [
      ['publisher', this.#pub],
      ['subscriber', this.#sub],
    ] as const) {
      conn.on('error', (err: Error) => {
        this.#lastError = err.message;
      });
      conn.on('close', () => {
        if (!this.#closed) this.#logger.warn(`Redis ${name} connection lost: reconnecting`, { redis: this.#where });
      });
      conn.on('ready', () => this.#logger.info(`Redis ${name} connection ready`, { redis: this.#where }));
    }
    this.#sub.on('message', (channel: string, message: string) => {
      if (channel === SESSION_EVENTS) {
        const [event, id] = message.split(' ');
        if ((event === 'end' || event === 'subs') && id) this.#onSession?.(event, id);
        return;
      }
      if (message !== CHANGED || !channel.startsWith(CHANNEL)) return;
      for (const deliver of this.#listeners.get(channel.slice(CHANNEL.length)) ?? []) deliver();
    });
  }

  /** Connects both connections; a ConfigError (the server does not start) when Redis cannot be reached. */
  static async connect(url: string, logger: Logger): Promise<SharedState> {
    const shared = new SharedState(url, logger);
    try {
      await Promise.all([shared.#pub.connect(), shared.#sub.connect()]);
      await shared.#pub.ping();
      await shared.#sub.subscribe(SESSION_EVENTS);
    } catch (err) {
      shared.close();
      throw new ConfigError(
        `cannot reach Redis at ${shared.#where} (--redis-url): ${(err as Error).message || shared.#lastError}. ` +
          'Start Redis or fix the URL; without --redis-url the server keeps its state in this process only',
      );
    }
    return shared;
  }

  /**
   * The command connection, for other state kept in this Redis (the built-in OAuth server's, src/oauth/redis-store.ts).
   * No offline queue: while Redis is away a command fails at once and the caller answers 503.
   */
  get connection(): Redis {
    return this.#pub;
  }

  health(): SharedHealth {
    if (this.#pub.status === 'ready' && this.#sub.status === 'ready') return { ok: true };
    return {
      ok: false,
      reason: `Redis at ${this.#where} is unreachable (${this.#lastError || this.#pub.status}): reconnecting`,
    };
  }

  /**
   * Announces a change of `tenant`'s resources to every instance (this one included, through its subscription).
   * Resolves false when Redis did not take it: the caller then delivers to its own clients.
   */
  async announce(tenant: string): Promise<boolean> {
    try {
      await this.#pub.publish(CHANNEL + tenant, CHANGED);
      return true;
    } catch (err) {
      this.#logger.warn('change not shared with other instances: Redis is unreachable', {
        redis: this.#where,
        error: (err as Error).message,
      });
      return false;
    }
  }

  /** Hears `tenant`'s announcements until the returned function is called. */
  listen(tenant: string, deliver: () => void): () => void {
    let set = this.#listeners.get(tenant);
    if (!set) {
      set = new Set();
      this.#listeners.set(tenant, set);
      this.#sub.subscribe(CHANNEL + tenant).catch((err: Error) => {
        this.#logger.warn('Redis subscription failed', { error: err.message });
      });
    }
    set.add(deliver);
    return () => {
      const current = this.#listeners.get(tenant);
      if (!current?.delete(deliver) || current.size > 0) return;
      this.#listeners.delete(tenant);
      if (!this.#closed) this.#sub.unsubscribe(CHANNEL + tenant).catch(() => {});
    };
  }

  /** Hears sessions ended or changed through other instances (and this one). */
  onSessionEvent(handler: (event: SessionEvent, id: string) => void) {
    this.#onSession = handler;
  }

  // 2025 sessions. Each call rejects at once while Redis is away (no offline queue): the caller answers 503.

  async saveSession(id: string, record: SessionRecord, ttlMs: number): Promise<void> {
    await this.#pub.set(SESSION + id, JSON.stringify(record), 'PX', ttlMs);
  }

  async loadSession(id: string): Promise<SessionRecord | undefined> {
    const raw = await this.#pub.get(SESSION + id);
    if (!raw) return undefined;
    try {
      const record = JSON.parse(raw) as SessionRecord;
      return typeof record.tenant === 'string' ? record : undefined;
    } catch {
      return undefined;
    }
  }

  /** Keeps a session alive for another `ttlMs`; false when it has ended or expired. */
  async touchSession(id: string, ttlMs: number): Promise<boolean> {
    const results = await this.#pub
      .multi()
      .pexpire(SESSION + id, ttlMs)
      .pexpire(`${SESSION + id}:subs`, ttlMs)
      .pexpire(`${SESSION + id}:events`, ttlMs)
      .pexpire(`${SESSION + id}:seq`, ttlMs)
      .pexpire(`${SESSION + id}:recent`, ttlMs)
      .exec();
    return results?.[0]?.[1] === 1;
  }

  async sessionSubscriptions(id: string): Promise<string[]> {
    return this.#pub.smembers(`${SESSION + id}:subs`);
  }

  /** Records `resources/subscribe` (add) or `resources/unsubscribe` URIs; every instance holding the session syncs. */
  async changeSubscriptions(id: string, uris: string[], add: boolean, ttlMs: number): Promise<void> {
    const key = `${SESSION + id}:subs`;
    const multi = this.#pub.multi();
    if (add) multi.sadd(key, ...uris).pexpire(key, ttlMs);
    else multi.srem(key, ...uris);
    await multi.publish(SESSION_EVENTS, `subs ${id}`).exec();
  }

  /** Appends to the session's GET-stream log (see STORE_EVENT); its sequence number. */
  async storeSessionEvent(
    id: string,
    message: string,
    bounds: { maxEvents: number; windowMs: number; ttlMs: number },
    force = false,
  ): Promise<number> {
    const base = SESSION + id;
    const seq = await this.#pub.eval(
      STORE_EVENT,
      3,
      `${base}:events`,
      `${base}:seq`,
      `${base}:recent`,
      message,
      bounds.windowMs,
      bounds.maxEvents,
      bounds.ttlMs,
      force ? '1' : '0',
    );
    return Number(seq);
  }

  /** The session's GET-stream messages after `seq`, oldest first (those still in its bounded log). */
  async sessionEventsAfter(id: string, seq: number): Promise<{ seq: number; message: string }[]> {
    const entries = await this.#pub.lrange(`${SESSION + id}:events`, 0, -1);
    const out: { seq: number; message: string }[] = [];
    for (const entry of entries) {
      const space = entry.indexOf(' ');
      const n = Number(entry.slice(0, space));
      if (n > seq) out.push({ seq: n, message: entry.slice(space + 1) });
    }
    return out;
  }

  /** The session was ended (DELETE): forgotten everywhere. */
  async endSession(id: string): Promise<void> {
    const base = SESSION + id;
    await this.#pub
      .multi()
      .del(base, `${base}:subs`, `${base}:events`, `${base}:seq`, `${base}:recent`)
      .publish(SESSION_EVENTS, `end ${id}`)
      .exec();
  }

  close() {
    this.#closed = true;
    this.#pub.disconnect();
    this.#sub.disconnect();
  }
}
