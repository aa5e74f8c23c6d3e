/**
 * DNS-rebinding protection: the `Host` and `Origin` allow-lists, and what counts as a loopback address.
 *
 * Host entries are `name` (any port) or `name:port`; IPv6 in brackets (`[::1]:3333`); `*` allows any host.
 * Origin entries are full origins (`https://app.example.com`, `http://localhost:5173`) or bare hostnames (any scheme
 * and port); `*` allows any origin. A request without `Origin` (every non-browser client) passes; a present but
 * unparseable one (including the opaque `null`) is refused.
 */
import { isIP } from 'node:net';

export const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** True for addresses only this machine can reach: localhost, 127.0.0.0/8, ::1. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h.startsWith('::ffff:')) return h.slice(7).startsWith('127.');
  return false;
}

/** True for the wildcard addresses that bind every interface. */
export function isWildcardHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === '0.0.0.0' || h === '::' || h === '0:0:0:0:0:0:0:0';
}

/** `[::1]` for IPv6 literals, as they appear in Host headers and URLs; other names unchanged. */
export function hostForUrl(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

interface HostEntry {
  hostname: string;
  port?: string;
}

function parseHostPort(value: string): HostEntry | undefined {
  try {
    const url = new URL(`http://${value}`);
    if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) return undefined;
    // URL drops the scheme's default port (`:80`), which here is a port like any other.
    const port = url.port || /:(\d+)$/.exec(value)?.[1]?.replace(/^0+(?=\d)/, '');
    return { hostname: url.hostname.toLowerCase(), ...(port ? { port } : {}) };
  } catch {
    return undefined;
  }
}

/** How many distinct Host header values an allow list remembers its answer for (bounded: clients choose them). */
const HOSTS_SEEN = 64;

export class HostAllowList {
  readonly any: boolean;
  readonly #entries: HostEntry[];
  readonly #seen = new Map<string, boolean>();

  constructor(entries: readonly string[]) {
    this.any = entries.includes('*');
    this.#entries = entries.flatMap((e) => {
      const parsed = parseHostPort(e.trim());
      return parsed ? [parsed] : [];
    });
  }

  /** The default list for a bind address: loopback names (for loopback binds) or the address itself, with the port. */
  static defaults(bindHost: string, port: number): string[] {
    if (isLoopbackHost(bindHost)) return LOOPBACK_NAMES.map((n) => `${n}:${port}`);
    return [`${hostForUrl(bindHost)}:${port}`];
  }

  allows(hostHeader: string | undefined): boolean {
    if (this.any) return true;
    if (!hostHeader) return false;
    // Every request asks about the same few Host values: each is parsed once (the first HOSTS_SEEN of them).
    let allowed = this.#seen.get(hostHeader);
    if (allowed === undefined) {
      allowed = this.#matches(hostHeader);
      if (this.#seen.size < HOSTS_SEEN) this.#seen.set(hostHeader, allowed);
    }
    return allowed;
  }

  #matches(hostHeader: string): boolean {
    const h = parseHostPort(hostHeader);
    if (!h) return false;
    // An entry without a port matches any port; a Host header without a port matches only those (or `:80`).
    return this.#entries.some(
      (e) => e.hostname === h.hostname && (e.port === undefined || e.port === (h.port ?? '80')),
    );
  }
}

export class OriginAllowList {
  readonly any: boolean;
  readonly #origins = new Set<string>();
  readonly #hostnames = new Set<string>();

  constructor(entries: readonly string[]) {
    this.any = entries.includes('*');
    for (const raw of entries) {
      const e = raw.trim();
      if (!e || e === '*') continue;
      if (e.includes('://')) {
        try {
          this.#origins.add(new URL(e).origin);
        } catch {}
      } else {
        const parsed = parseHostPort(e);
        if (parsed) this.#hostnames.add(parsed.hostname);
      }
    }
  }

  /** Loopback origins on any port (local browser tools such as the MCP Inspector). */
  static defaults(): string[] {
    return [...LOOPBACK_NAMES];
  }

  allows(originHeader: string | undefined): boolean {
    if (originHeader === undefined || originHeader === '') return true;
    if (this.any) return true;
    let url: URL;
    try {
      url = new URL(originHeader);
    } catch {
      return false;
    }
    if (url.origin === 'null') return false;
    return this.#origins.has(url.origin) || this.#hostnames.has(url.hostname.toLowerCase());
  }
}
