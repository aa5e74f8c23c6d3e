/**
 * A tenant is everything one HTTP client identity owns: its Kernel API client, its stream hub, its modern
 * (2026-07-28) handler, and its notification port (the handler's event bus and its listen streams' subscriptions). With token or no auth there is one
 * tenant for the whole server (every client uses the server's key). With passthrough auth each API key is a tenant,
 * found by the SHA-256 hash of the key: clients with different keys never share a client, a hub, a bus, a
 * subscription or a session. Idle passthrough tenants are dropped (their hub closed, their key forgotten), and
 * their number is bounded.
 */
import { createMcpHandler, type McpHttpHandler } from '@modelcontextprotocol/server';
import type { Config } from '../config.js';
import { removeSecret } from '../kernel/redact.js';
import type { Logger } from '../log.js';
import { StreamHub } from '../resources/hub.js';
import { createServer, type ServerDeps } from '../server.js';
import type { AuthResult } from './auth.js';
import { TenantPort } from './tenant-port.js';

export interface Tenant {
  /** `shared`, or the hex SHA-256 of the client's API key. */
  readonly id: string;
  /** For logs: `shared` or `key:<first 8 hex of the hash>`. */
  readonly label: string;
  readonly deps: ServerDeps;
  /** The stateless 2026-07-28 handler; its event bus (the port's) reaches this tenant's listen streams only. */
  readonly modern: McpHttpHandler;
  /** How list changes and resource updates reach this tenant's clients. */
  readonly port: TenantPort;
  /** HTTP requests in flight (open streams included). */
  active: number;
  /** Open legacy sessions. */
  sessions: number;
  lastUsed: number;
}

interface Entry {
  tenant: Tenant;
  /** Created here (passthrough): its hub is closed and its key forgotten when it is dropped. */
  owned: boolean;
  apiKey?: string;
}

export interface TenantRegistryOptions {
  config: Config;
  deps: ServerDeps;
  logger: Logger;
  /** Most passthrough tenants held at once. */
  maxTenants: number;
  /** A passthrough tenant with nothing in flight and no session is dropped after this long. */
  idleMs: number;
}

export class TenantRegistry {
  readonly #entries = new Map<string, Entry>();
  readonly #options: TenantRegistryOptions;
  #closed = false;

  constructor(options: TenantRegistryOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#entries.size;
  }

  tenants(): Tenant[] {
    return [...this.#entries.values()].map((e) => e.tenant);
  }

  /** The tenant for an authenticated request; undefined when the server is at its bound of passthrough tenants. */
  get(auth: Extract<AuthResult, { ok: true }>): Tenant | undefined {
    if (this.#closed) return undefined;
    const id = auth.mode === 'passthrough' ? auth.keyHash : 'shared';
    const found = this.#entries.get(id);
    if (found) {
      found.tenant.lastUsed = Date.now();
      return found.tenant;
    }
    if (auth.mode !== 'passthrough') {
      const entry = { tenant: this.#make(id, 'shared', this.#options.deps), owned: false };
      this.#entries.set(id, entry);
      return entry.tenant;
    }
    if (this.#entries.size >= this.#options.maxTenants && !this.#evictOne()) return undefined;
    const { deps, config, logger } = this.#options;
    const client = deps.client.withOptions({ apiKey: auth.apiKey });
    const hub = new StreamHub(client, {
      bufferEvents: config.streamBufferEvents,
      bufferBytes: config.streamBufferBytes,
      idleMs: config.streamIdleMs,
      logger,
    });
    const label = `key:${id.slice(0, 8)}`;
    const entry: Entry = { tenant: this.#make(id, label, { ...deps, client, hub }), owned: true, apiKey: auth.apiKey };
    this.#entries.set(id, entry);
    logger.debug('new passthrough client', { client: label });
    return entry.tenant;
  }

  #make(id: string, label: string, deps: ServerDeps): Tenant {
    const { config, logger } = this.#options;
    const port = new TenantPort(deps.hub, logger);
    const modern = createMcpHandler(() => createServer(config, deps, port), {
      legacy: 'reject',
      bus: port.bus,
      maxRequestBodySize: config.maxBodyBytes,
      onerror: (err) => logger.debug('mcp handler', { client: label, error: err.message }),
    });
    return { id, label, deps, modern, port, active: 0, sessions: 0, lastUsed: Date.now() };
  }

  /** Drops the least recently used idle passthrough tenant; false when every one is busy. */
  #evictOne(): boolean {
    let victim: Entry | undefined;
    for (const e of this.#entries.values()) {
      if (!e.owned || e.tenant.active > 0 || e.tenant.sessions > 0) continue;
      if (!victim || e.tenant.lastUsed < victim.tenant.lastUsed) victim = e;
    }
    if (!victim) return false;
    void this.#drop(victim);
    return true;
  }

  /** Drops passthrough tenants idle for longer than idleMs. */
  sweep(now = Date.now()) {
    for (const e of [...this.#entries.values()]) {
      if (!e.owned || e.tenant.active > 0 || e.tenant.sessions > 0) continue;
      if (now - e.tenant.lastUsed >= this.#options.idleMs) void this.#drop(e);
    }
  }

  async #drop(e: Entry) {
    this.#entries.delete(e.tenant.id);
    this.#options.logger.debug('dropping idle client', { client: e.tenant.label });
    await this.#close(e);
  }

  async #close(e: Entry) {
    try {
      await e.tenant.modern.close();
    } catch {}
    e.tenant.port.close();
    if (e.owned) {
      e.tenant.deps.hub.close();
      // The key stays a secret while anything else (the server's own KERNEL_API_KEY) still uses it.
      if (e.apiKey && e.apiKey !== this.#options.config.apiKey) removeSecret(e.apiKey);
    }
  }

  /** Ends every modern listen stream and closes the hubs this registry created. */
  async close() {
    this.#closed = true;
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(entries.map((e) => this.#close(e)));
  }
}
