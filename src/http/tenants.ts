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
import type { KernelClient } from '../kernel/client.js';
import type { Logger } from '../log.js';
import { StreamHub } from '../resources/hub.js';
import { selectTools } from '../selection.js';
import { createServer, type ProcessDeps, type RequestScope, requestScope, type ServerDeps } from '../server.js';
import { checkKey, type KeyAdmission } from './admission.js';
import type { AuthResult } from './auth.js';
import { type SharedState, sharedTenantKey } from './shared.js';
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
  /** HTTP exchanges open (requests in flight and open streams). */
  active: number;
  /** Open streams (2025 GET streams, listen streams). */
  streams: number;
  /** A passthrough key's tenant: held to the per-key bounds on sessions and streams. */
  readonly limited: boolean;
  /** What is redacted in this tenant's output on top of the process's own secrets (its key). */
  readonly secrets: readonly string[];
  /** Open legacy sessions. */
  sessions: number;
  /** With --redis-url: the tenant's key in Redis (its channel, its sessions' owner); never an API key. */
  shareKey?: string;
  lastUsed: number;
}

interface Entry {
  tenant: Tenant;
  /** A passthrough key's tenant: dropped when idle (its hub closed with it). */
  owned: boolean;
  /** Stops hearing the tenant's announcements from other instances (with --redis-url). */
  unlisten?: () => void;
}

export interface TenantRegistryOptions {
  config: Config;
  deps: ProcessDeps;
  logger: Logger;
  /** Most passthrough tenants held at once. */
  maxTenants: number;
  /** A passthrough tenant with nothing in flight and no session is dropped after this long. */
  idleMs: number;
  /** Checks a new passthrough key against the Kernel API before it becomes a tenant. */
  admission?: KeyAdmission;
  /** With --redis-url: each tenant's change announcements are shared with the other instances. */
  shared?: SharedState;
}

/** Why no tenant: the answer to give. */
export interface Refusal {
  status: number;
  message: string;
}

export class TenantRegistry {
  readonly #entries = new Map<string, Entry>();
  readonly #options: TenantRegistryOptions;
  /** The hub of the tenants that use the server's own key (made with the first of them). */
  #sharedHub: StreamHub | undefined;
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

  /**
   * The tenant for an authenticated request. A passthrough key not held yet is first checked against the Kernel API
   * (see admission.ts): a key the API refuses never becomes a tenant nor makes room by evicting one.
   */
  async acquire(auth: Extract<AuthResult, { ok: true }>): Promise<Tenant | Refusal> {
    if (auth.mode === 'passthrough' && !this.#entries.has(auth.keyHash) && this.#options.admission) {
      const { deps } = this.#options;
      const verdict = await this.#options.admission.admit(auth.keyHash, () =>
        checkKey(deps.client.withOptions({ apiKey: auth.apiKey, pinKey: false, maxRetries: 0 })),
      );
      if (!verdict.ok) return { status: verdict.status, message: verdict.message };
    }
    return this.get(auth) ?? { status: 503, message: 'Server busy: too many clients' };
  }

  /** The tenant for an authenticated request; undefined when the server is at its bound of passthrough tenants. */
  get(auth: Extract<AuthResult, { ok: true }>): Tenant | undefined {
    if (this.#closed) return undefined;
    // A read-only grant (OAuth kernel:read) is a tenant of its own whose servers list only read-only tools.
    const readOnly = auth.readOnly === true;
    const id = (auth.mode === 'passthrough' ? auth.keyHash : 'shared') + (readOnly ? ':read' : '');
    const found = this.#entries.get(id);
    if (found) {
      found.tenant.lastUsed = Date.now();
      return found.tenant;
    }
    if (auth.mode !== 'passthrough') {
      const { deps } = this.#options;
      this.#sharedHub ??= this.#newHub(deps.client);
      const entry: Entry = {
        tenant: this.#make(id, 'shared', { ...deps, hub: this.#sharedHub }, false, [], readOnly),
        owned: false,
      };
      // A read-only tenant (':read') is a tenant of its own here, and so in Redis.
      const key = sharedTenantKey(this.#options.deps.client.baseUrl, this.#options.config.apiKey);
      this.#share(entry, key + id.slice('shared'.length));
      this.#entries.set(id, entry);
      return entry.tenant;
    }
    if (this.#entries.size >= this.#options.maxTenants && !this.#evictOne()) return undefined;
    const { deps, logger } = this.#options;
    // The key is redacted only in this tenant's output (withSecrets), never process-wide.
    const client = deps.client.withOptions({ apiKey: auth.apiKey, pinKey: false });
    const hub = this.#newHub(client);
    const label = `key:${id.slice(0, 8)}`;
    const tenant = this.#make(id, label, { ...deps, client, hub }, true, [auth.apiKey], readOnly);
    const entry: Entry = { tenant, owned: true };
    this.#share(entry, id);
    this.#entries.set(id, entry);
    logger.debug('new passthrough client', { client: label });
    return entry.tenant;
  }

  #newHub(client: KernelClient): StreamHub {
    const { config, logger } = this.#options;
    return new StreamHub(client, {
      bufferEvents: config.streamBufferEvents,
      bufferBytes: config.streamBufferBytes,
      idleMs: config.streamIdleMs,
      logger,
    });
  }

  /** With --redis-url: the tenant's announcements go through its Redis channel (`key`: never an API key). */
  #share(entry: Entry, key: string) {
    const { shared } = this.#options;
    if (!shared) return;
    const { port } = entry.tenant;
    entry.tenant.shareKey = key;
    port.shareWith(() => shared.announce(key));
    entry.unlisten = shared.listen(key, () => port.deliverChange());
  }

  #make(
    id: string,
    label: string,
    shared: ServerDeps,
    limited: boolean,
    secrets: readonly string[],
    readOnly = false,
  ): Tenant {
    const { logger } = this.#options;
    const config = readOnly ? { ...this.#options.config, readOnly: true } : this.#options.config;
    const deps = readOnly ? { ...shared, selection: selectTools(config) } : shared;
    const port = new TenantPort(deps.hub, logger);
    // The SDK builds a server for every 2026-07-28 request; a tools/call's server registers only its tool. Requests
    // arrive parsed (parsedBody), so the scope is noted here, by request, for the factory to find.
    const scopes = new WeakMap<Request, RequestScope>();
    const handler = createMcpHandler(
      (ctx) => createServer(config, deps, port, ctx.requestInfo && scopes.get(ctx.requestInfo)),
      {
        legacy: 'reject',
        bus: port.bus,
        maxRequestBodySize: config.maxBodyBytes,
        onerror: (err) => logger.debug('mcp handler', { client: label, error: err.message }),
      },
    );
    const modern: McpHttpHandler = {
      ...handler,
      fetch: (request, options) => {
        const scope = requestScope(options?.parsedBody);
        if (scope) scopes.set(request, scope);
        return handler.fetch(request, options);
      },
    };
    return {
      id,
      label,
      deps,
      modern,
      port,
      active: 0,
      streams: 0,
      limited,
      secrets,
      sessions: 0,
      lastUsed: Date.now(),
    };
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
    e.unlisten?.();
    e.tenant.port.close();
    if (e.owned) e.tenant.deps.hub.close();
  }

  /** Ends every modern listen stream and closes the hubs this registry created. */
  async close() {
    this.#closed = true;
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(entries.map((e) => this.#close(e)));
    this.#sharedHub?.close();
  }
}
