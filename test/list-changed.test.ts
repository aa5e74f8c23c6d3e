/**
 * Change notifications reach clients of both eras over both transports: `notifications/resources/list_changed` after
 * a tool creates or ends a live resource, and `notifications/resources/updated` for a subscribed stream (a 2026-07-28
 * client on its `subscriptions/listen` streams, a 2025-11-25 client unsolicited or on its session's GET stream).
 * Over passthrough HTTP, one key's clients (either era) never hear what another key's clients changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../simulator/index.js';
import { usePassthroughAccounts } from './helpers/fixtures.js';
import { closeAll, type HttpServerProcess, startHttp } from './helpers/http.js';
import { type Era, text } from './helpers/mcp.js';
import { connect, createBrowser, type Watcher, type Wire } from './helpers/watch.js';

const CASES: [Era, Wire][] = [
  ['modern', 'stdio'],
  ['legacy', 'stdio'],
  ['modern', 'http'],
  ['legacy', 'http'],
];
const KEY = 'sk_list_changed_server_key_0123456789';

describe.each(CASES)('change notifications reach a %s client over %s', (era, wire) => {
  let sim: Simulator;
  let srv: HttpServerProcess | undefined;
  let target: { url: string; key?: string };
  beforeAll(async () => {
    sim = await startSimulator({ apiKey: KEY });
    if (wire === 'http') {
      srv = await startHttp({ env: { KERNEL_API_KEY: KEY, KERNEL_BASE_URL: sim.url } });
      target = { url: srv.url };
    } else {
      target = { url: sim.url, key: KEY };
    }
  });
  afterAll(() => closeAll(srv, sim));

  it('resources/list_changed after a browser is created and after it is deleted', async () => {
    const w = await connect(era, wire, target);
    try {
      const created = w.heard.next('list_changed', 'list_changed after browsers_create');
      const id = await createBrowser(w.mcp);
      await created;
      const resources = await w.mcp.client.listResources();
      expect(resources.resources.map((r) => r.uri)).toContain(`kernel://browsers/${id}/telemetry`);
      const afterCreate = w.heard.count('list_changed');

      const deleted = w.heard.next('list_changed', 'list_changed after browsers_delete');
      const gone = await w.mcp.call('browsers_delete', { id });
      expect(gone.isError, text(gone)).toBeFalsy();
      await deleted;
      expect(w.heard.count('list_changed')).toBeGreaterThan(afterCreate);
    } finally {
      await w.close();
    }
  });

  it('resources/updated for a subscribed stream resource', async () => {
    const w = await connect(era, wire, target);
    try {
      const id = await createBrowser(w.mcp);
      const uri = `kernel://browsers/${id}/telemetry`;
      await w.watch(uri);
      const updated = w.heard.next(`updated ${uri}`);
      expect(sim.emitTelemetry(id, { type: 'list_changed_test' })).toBeDefined();
      await updated;
      const read = await w.mcp.client.readResource({ uri });
      expect(JSON.stringify(read.contents)).toContain('list_changed_test');
    } finally {
      await w.close();
    }
  });
});

describe('passthrough HTTP: a key hears only its own changes', () => {
  const KEY_A = 'sk_list_changed_alice_0123456789';
  const KEY_B = 'sk_list_changed_bob_9876543210';
  const accounts = usePassthroughAccounts(KEY_A, KEY_B);

  it("announces A's browser to A's clients of both eras, and none of it to B's", async () => {
    const clients: Watcher[] = [];
    try {
      const aModern = await connect('modern', 'http', { url: accounts.srv.url, key: KEY_A });
      const aLegacy = await connect('legacy', 'http', { url: accounts.srv.url, key: KEY_A });
      const bModern = await connect('modern', 'http', { url: accounts.srv.url, key: KEY_B });
      const bLegacy = await connect('legacy', 'http', { url: accounts.srv.url, key: KEY_B });
      clients.push(aModern, aLegacy, bModern, bLegacy);

      // A's change, made by A's modern client: both of A's clients hear it.
      const heardByA = [aModern, aLegacy].map((w) => w.heard.next('list_changed', "A's list_changed"));
      await createBrowser(aModern.mcp);
      await Promise.all(heardByA);

      // B's own change, made by B's legacy client, after A's was delivered. Each stream delivers in order, so had
      // A's announcement reached B's streams it would have arrived before this one.
      const heardByB = [bModern, bLegacy].map((w) => w.heard.next('list_changed', "B's list_changed"));
      await createBrowser(bLegacy.mcp);
      await Promise.all(heardByB);
      expect(bModern.heard.events).toEqual(['list_changed']);
      expect(bLegacy.heard.events).toEqual(['list_changed']);
      for (const r of accounts.simB.requests) expect(r.headers.authorization).toBe(`Bearer ${KEY_B}`);
      for (const r of accounts.simA.requests) expect(r.headers.authorization).toBe(`Bearer ${KEY_A}`);
    } finally {
      for (const c of clients) await c.close().catch(() => {});
    }
  });
});
