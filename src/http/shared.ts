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
/** Reconnection backoff: 100 ms, 200 ms, ... up to 2 s between attempts, for ever. */
const backoff = (times: number) => Math.min(times * 100, 2000);

export type SharedHealth = { ok: true } | { ok: false; reason: string };

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
    } catch (err) {
      shared.close();
      throw new ConfigError(
        `cannot reach Redis at ${shared.#where} (--redis-url): ${(err as Error).message || shared.#lastError}. ` +
          'Start Redis or fix the URL; without --redis-url the server keeps its state in this process only',
      );
    }
    return shared;
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

  close() {
    this.#closed = true;
    this.#pub.disconnect();
    this.#sub.disconnect();
  }
}
