/**
 * The HTTP transport's parts, without a process: auth (modes, constant-time token check, passthrough key hashing),
 * the Host/Origin allow-lists, the bounded legacy event store and the tenant registry.
 */
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { makeConfig } from '../src/config.js';
import { Authenticator, resolveAuthMode, sha256 } from '../src/http/auth.js';
import { banner } from '../src/http/banner.js';
import { BoundedEventStore, ReplayBudget } from '../src/http/event-store.js';
import { HostAllowList, isLoopbackHost, OriginAllowList } from '../src/http/guards.js';
import { startHttpServer } from '../src/http/lifecycle.js';
import { TenantRegistry } from '../src/http/tenants.js';
import { KernelClient } from '../src/kernel/client.js';
import { silentLogger } from '../src/log.js';
import { redact, withSecrets } from '../src/redact.js';
import { selectTools } from '../src/selection.js';
import type { ServerDeps } from '../src/server.js';
import { INITIALIZE } from './helpers/http.js';

describe('auth mode', () => {
  it('defaults to token when a token is set, none otherwise', () => {
    expect(resolveAuthMode(makeConfig({ transport: 'http', httpToken: 'x'.repeat(16) }))).toBe('token');
    expect(resolveAuthMode(makeConfig({ transport: 'http' }))).toBe('none');
    expect(resolveAuthMode(makeConfig({ transport: 'http', auth: 'passthrough' }))).toBe('passthrough');
  });

  it('refuses no auth off loopback, token mode without a token, and passthrough with the simulator', () => {
    expect(() => resolveAuthMode(makeConfig({ host: '0.0.0.0' }))).toThrow(/refusing to serve HTTP on 0\.0\.0\.0/);
    expect(() => resolveAuthMode(makeConfig({ host: '192.168.1.20', auth: 'none' }))).toThrow(/refusing/);
    expect(() => resolveAuthMode(makeConfig({ auth: 'token' }))).toThrow(/needs a token/);
    expect(() => resolveAuthMode(makeConfig({ auth: 'passthrough', simulate: true }))).toThrow(/--base-url/);
    expect(resolveAuthMode(makeConfig({ host: '0.0.0.0', httpToken: 'x'.repeat(16) }))).toBe('token');
    expect(resolveAuthMode(makeConfig({ host: '::', auth: 'passthrough' }))).toBe('passthrough');
    expect(resolveAuthMode(makeConfig({ host: 'localhost' }))).toBe('none');
  });
});

describe('Authenticator', () => {
  const token = 'the-http-token-0123456789';

  it('token: accepts exactly the token, with a challenge for anything else', () => {
    const a = new Authenticator('token', token);
    expect(a.check(`Bearer ${token}`)).toEqual({ ok: true, mode: 'token' });
    expect(a.check(`bearer ${token}`)).toEqual({ ok: true, mode: 'token' });
    for (const bad of [undefined, '', 'Bearer', `Basic ${token}`, `Bearer ${token}x`, `Bearer ${token.slice(1)}`]) {
      const r = a.check(bad);
      expect(r.ok, String(bad)).toBe(false);
      if (!r.ok) expect(r.challenge).toMatch(/^Bearer realm="kernel-mcp"/);
    }
    const wrong = a.check('Bearer nope-nope-nope');
    expect(!wrong.ok && wrong.challenge).toContain('error="invalid_token"');
    const missing = a.check(undefined);
    expect(!missing.ok && missing.challenge).not.toContain('error=');
  });

  it('passthrough: tells keys apart by their SHA-256, never by the key', () => {
    const a = new Authenticator('passthrough');
    const r1 = a.check('Bearer sk_alice_0123456789');
    const r2 = a.check('Bearer sk_bob_0123456789');
    expect(r1.ok && r1.mode === 'passthrough' && r1.keyHash).toBe(sha256('sk_alice_0123456789').toString('hex'));
    expect(r1.ok && r2.ok && r1.mode === 'passthrough' && r2.mode === 'passthrough' && r1.keyHash !== r2.keyHash).toBe(
      true,
    );
    expect(a.check('Bearer short').ok).toBe(false);
    expect(a.check('Bearer has"quote0123').ok).toBe(false);
    expect(a.check(undefined).ok).toBe(false);
  });

  it('none: lets everything through', () => {
    expect(new Authenticator('none').check(undefined).ok).toBe(true);
  });
});

describe('Host and Origin allow-lists', () => {
  it('defaults to the loopback names with the port for a loopback bind', () => {
    const hosts = new HostAllowList(HostAllowList.defaults('127.0.0.1', 3333));
    expect(hosts.allows('127.0.0.1:3333')).toBe(true);
    expect(hosts.allows('localhost:3333')).toBe(true);
    expect(hosts.allows('LOCALHOST:3333')).toBe(true);
    expect(hosts.allows('[::1]:3333')).toBe(true);
    expect(hosts.allows('localhost:3334')).toBe(false);
    expect(hosts.allows('localhost')).toBe(false);
    expect(hosts.allows('evil.example:3333')).toBe(false);
    expect(hosts.allows('localhost.evil.example:3333')).toBe(false);
    expect(hosts.allows('user@localhost:3333')).toBe(false);
    expect(hosts.allows(undefined)).toBe(false);
    expect(hosts.allows('')).toBe(false);
  });

  it('takes names with or without a port, and * for any', () => {
    const hosts = new HostAllowList(['mcp.example.com', 'lb.internal:8080']);
    expect(hosts.allows('mcp.example.com')).toBe(true);
    expect(hosts.allows('mcp.example.com:443')).toBe(true);
    expect(hosts.allows('lb.internal:8080')).toBe(true);
    expect(hosts.allows('lb.internal:8081')).toBe(false);
    expect(hosts.allows('lb.internal')).toBe(false);
    expect(new HostAllowList(['*']).allows('anything:1')).toBe(true);
  });

  it('lets requests without Origin through and checks the rest', () => {
    const origins = new OriginAllowList(OriginAllowList.defaults());
    expect(origins.allows(undefined)).toBe(true);
    expect(origins.allows('http://localhost:6274')).toBe(true);
    expect(origins.allows('http://127.0.0.1:5173')).toBe(true);
    expect(origins.allows('http://[::1]:80')).toBe(true);
    expect(origins.allows('https://evil.example')).toBe(false);
    expect(origins.allows('http://localhost.evil.example')).toBe(false);
    expect(origins.allows('null')).toBe(false);
    expect(origins.allows('not a url')).toBe(false);
    const custom = new OriginAllowList(['https://app.example.com', 'tools.example.com']);
    expect(custom.allows('https://app.example.com')).toBe(true);
    expect(custom.allows('http://app.example.com')).toBe(false);
    expect(custom.allows('https://tools.example.com:8443')).toBe(true);
    expect(custom.allows('http://localhost:3000')).toBe(false);
  });

  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(h), h).toBe(true);
    }
    for (const h of ['0.0.0.0', '::', '192.168.1.2', 'example.com', '128.0.0.1'])
      expect(isLoopbackHost(h), h).toBe(false);
  });
});

describe('BoundedEventStore', () => {
  const msg = (n: number): JSONRPCMessage => ({ jsonrpc: '2.0', method: 'notifications/message', params: { n } });

  async function replay(store: BoundedEventStore, after: string) {
    const got: [string, JSONRPCMessage][] = [];
    const stream = await store.replayEventsAfter(after, {
      send: async (id, m) => {
        got.push([id, m]);
      },
    });
    return { stream, got };
  }

  it('replays the events of one stream after an id, and no other stream', async () => {
    const store = new BoundedEventStore({ maxEvents: 100, maxBytes: 1 << 20 });
    const prime = await store.storeEvent('_GET_stream', {} as JSONRPCMessage);
    const ids = [];
    for (let i = 1; i <= 5; i++) {
      ids.push(await store.storeEvent('_GET_stream', msg(i)));
      await store.storeEvent('other', msg(100 + i));
    }
    expect(await store.getStreamIdForEventId(ids[1]!)).toBe('_GET_stream');
    const fromPrime = await replay(store, prime);
    expect(fromPrime.stream).toBe('_GET_stream');
    expect(fromPrime.got.map(([, m]) => (m as unknown as { params: { n: number } }).params.n)).toEqual([1, 2, 3, 4, 5]);
    const after2 = await replay(store, ids[1]!);
    expect(after2.got.map(([id]) => id)).toEqual(ids.slice(2));
    expect(await store.getStreamIdForEventId('garbage')).toBeUndefined();
    expect((await replay(store, 'garbage')).got).toEqual([]);
  });

  it('stays within its bounds, keeping the newest events; a late resume gets what is left', async () => {
    const store = new BoundedEventStore({ maxEvents: 3, maxBytes: 1 << 20 });
    const ids = [];
    for (let i = 1; i <= 10; i++) ids.push(await store.storeEvent('s', msg(i)));
    expect(store.size).toBe(3);
    const late = await replay(store, ids[0]!);
    expect(late.stream).toBe('s');
    expect(late.got.map(([, m]) => (m as unknown as { params: { n: number } }).params.n)).toEqual([8, 9, 10]);

    const small = new BoundedEventStore({ maxEvents: 1000, maxBytes: 500 });
    for (let i = 0; i < 100; i++) await small.storeEvent('s', msg(i));
    expect(small.bytes).toBeLessThanOrEqual(500);
    expect(small.size).toBeGreaterThan(0);
  });
});

describe('ReplayBudget (every session store together)', () => {
  const msg = (n: number): JSONRPCMessage => ({ jsonrpc: '2.0', method: 'notifications/message', params: { n } });
  const numbers = async (store: BoundedEventStore) => {
    const got: number[] = [];
    await store.replayEventsAfter('0.s', {
      send: async (_id, m) => {
        got.push((m as unknown as { params: { n: number } }).params.n);
      },
    });
    return got;
  };

  it('holds the sum of all stores under the budget, the oldest event of any store leaving first', async () => {
    const budget = new ReplayBudget(2000);
    const a = new BoundedEventStore({ maxEvents: 1000, maxBytes: 1 << 20, budget });
    const b = new BoundedEventStore({ maxEvents: 1000, maxBytes: 1 << 20, budget });
    for (let i = 1; i <= 20; i++) await a.storeEvent('s', msg(i));
    const full = a.bytes;
    expect(full).toBeLessThanOrEqual(2000);
    expect(budget.bytes).toBe(full);
    expect(budget.events).toBe(a.size);
    for (let i = 101; i <= 120; i++) await b.storeEvent('s', msg(i));
    expect(a.bytes + b.bytes).toBe(budget.bytes);
    expect(budget.bytes).toBeLessThanOrEqual(2000);
    expect(budget.events).toBe(a.size + b.size);
    // b's newer events pushed out a's older ones: a keeps a tail of its newest, b all of its own that fit.
    const [fromA, fromB] = [await numbers(a), await numbers(b)];
    expect(fromB).toEqual(Array.from({ length: 20 }, (_, i) => 101 + i));
    expect(fromA.length).toBeGreaterThan(0);
    expect(fromA.length).toBeLessThan(20);
    expect(fromA).toEqual(Array.from({ length: fromA.length }, (_, i) => 21 - fromA.length + i));
  });

  it('gets every byte back when a session ends, and keeps nothing for an ended one', async () => {
    const budget = new ReplayBudget(1 << 20);
    const a = new BoundedEventStore({ maxEvents: 1000, maxBytes: 1 << 20, budget });
    const b = new BoundedEventStore({ maxEvents: 1000, maxBytes: 1 << 20, budget });
    for (let i = 0; i < 50; i++) {
      await a.storeEvent('s', msg(i));
      await b.storeEvent('s', msg(i));
    }
    a.dispose();
    expect(budget.bytes).toBe(b.bytes);
    expect(budget.events).toBe(50);
    await a.storeEvent('s', msg(99));
    expect(a.size).toBe(0);
    expect(await numbers(a)).toEqual([]);
    b.dispose();
    b.dispose();
    expect(budget.bytes).toBe(0);
    expect(budget.events).toBe(0);
  });

  it('keeps its queue proportional to what is kept, however many events a bounded store sees', async () => {
    const budget = new ReplayBudget(1 << 30);
    const small = new BoundedEventStore({ maxEvents: 3, maxBytes: 1 << 20, budget });
    for (let i = 0; i < 20_000; i++) await small.storeEvent('s', msg(i));
    expect(budget.events).toBe(3);
    expect(budget.queued).toBeLessThanOrEqual(2 * budget.events + 1025);
    expect(await numbers(small)).toEqual([19_997, 19_998, 19_999]);
  });

  it('keeps the newest event even when it alone is over the budget', async () => {
    const budget = new ReplayBudget(100);
    const store = new BoundedEventStore({ maxEvents: 10, maxBytes: 1 << 20, budget });
    const big: JSONRPCMessage = {
      jsonrpc: '2.0',
      method: 'notifications/message',
      params: { n: 7, pad: 'x'.repeat(500) },
    };
    await store.storeEvent('s', msg(1));
    await store.storeEvent('s', big);
    expect(await numbers(store)).toEqual([7]);
    expect(budget.events).toBe(1);
  });
});

describe('TenantRegistry', () => {
  function registry(maxTenants: number) {
    const config = makeConfig({ transport: 'http', auth: 'passthrough', baseUrl: 'http://127.0.0.1:9' });
    const client = new KernelClient({ baseUrl: config.baseUrl, apiKey: '' });
    return new TenantRegistry({
      config,
      deps: {
        client,
        logger: silentLogger,
        localFiles: false,
        simulated: false,
        selection: selectTools(config),
        skills: null,
      },
      logger: silentLogger,
      maxTenants,
      idleMs: 1000,
    });
  }
  const key = (name: string) => {
    const r = new Authenticator('passthrough').check(`Bearer sk_${name}_0123456789`);
    if (!r.ok || r.mode !== 'passthrough') throw new Error('bad key');
    return r;
  };

  it('gives each key its own client, hub and handler, and the same ones again', async () => {
    const reg = registry(10);
    const a = reg.get(key('alice'))!;
    const b = reg.get(key('bob'))!;
    expect(a).not.toBe(b);
    expect(a.deps.client).not.toBe(b.deps.client);
    expect(a.deps.hub).not.toBe(b.deps.hub);
    expect(a.modern).not.toBe(b.modern);
    expect(a.port).not.toBe(b.port);
    expect(a.modern.bus).toBe(a.port.bus);
    expect(reg.get(key('alice'))).toBe(a);
    expect(a.id).toBe(sha256('sk_alice_0123456789').toString('hex'));
    expect(a.label).not.toContain('alice');
    // The key is redacted in its own tenant's output, and is no secret anywhere else (another client's results).
    expect(withSecrets(a.secrets, () => redact('x sk_alice_0123456789 y'))).toBe('x [redacted] y');
    expect(withSecrets(b.secrets, () => redact('x sk_alice_0123456789 y'))).toBe('x sk_alice_0123456789 y');
    expect(redact('x sk_alice_0123456789 y')).toBe('x sk_alice_0123456789 y');
    await reg.close();
  });

  it('is bounded: the least recently used idle tenant makes room; busy ones never do', async () => {
    const reg = registry(2);
    const a = reg.get(key('a1'))!;
    const b = reg.get(key('b1'))!;
    a.active = 1;
    const c = reg.get(key('c1'));
    expect(c).toBeDefined();
    expect(reg.size).toBe(2);
    expect(reg.tenants()).toContain(a);
    expect(reg.tenants()).not.toContain(b);
    c!.sessions = 1;
    expect(reg.get(key('d1'))).toBeUndefined();
    await reg.close();
  });

  it('drops idle tenants', async () => {
    const reg = registry(10);
    const t = reg.get(key('idle'))!;
    t.lastUsed = Date.now() - 5000;
    reg.sweep();
    expect(reg.size).toBe(0);
    await reg.close();
  });
});

describe('banner', () => {
  it('names an environment variable or a prompt, never a secret', () => {
    const text = banner({
      url: 'http://127.0.0.1:3333/mcp',
      healthUrl: 'http://127.0.0.1:3333/healthz',
      auth: 'token',
      version: '1.0.0',
      target: 'x',
      tools: 3,
    });
    expect(text).toContain(
      'claude mcp add --transport http kernel http://127.0.0.1:3333/mcp --header "Authorization: Bearer $KERNEL_MCP_HTTP_TOKEN"',
    );
    expect(text).toContain('"url": "http://127.0.0.1:3333/mcp"');
    expect(text).toContain('"password": true');
    const none = banner({ url: 'u', healthUrl: 'h', auth: 'none', version: '1', target: 't', tools: 1 });
    expect(none).not.toContain('Authorization');
  });
});

describe('startHttpServer in process', () => {
  it('answers a crashing server factory with a 500 JSON-RPC error and keeps serving', async () => {
    const config = makeConfig({ transport: 'http', port: 0, logLevel: 'silent', baseUrl: 'http://127.0.0.1:9' });
    const client = new KernelClient({ baseUrl: config.baseUrl, apiKey: 'sk_unit_0123456789' });
    // A selection whose tool list is broken: building a server throws inside every request.
    const selection = { tools: [undefined] } as unknown as ServerDeps['selection'];
    const srv = await startHttpServer(config, {
      client,
      logger: silentLogger,
      localFiles: false,
      simulated: false,
      selection,
      skills: null,
    });
    try {
      const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
      const legacy = await fetch(srv.url, {
        method: 'POST',
        headers: { ...headers, 'mcp-protocol-version': '2025-11-25' },
        body: JSON.stringify({ jsonrpc: '2.0', ...INITIALIZE }),
      });
      expect(legacy.status).toBe(500);
      expect(await legacy.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32603 } });
      const health = await fetch(srv.url.replace('/mcp', '/healthz'));
      expect(health.status).toBe(200);
    } finally {
      await srv.close();
    }
  });
});
