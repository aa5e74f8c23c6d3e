/**
 * Resource-update notifications over HTTP, each era its own way: a 2026-07-28 client on a `subscriptions/listen`
 * stream (served by the stateless handler, published through the client's handler notifier), a 2025-11-25 client
 * with `resources/subscribe` on its session's GET stream. Plus: listen streams end gracefully on shutdown.
 */
import type { Client as ModernClient } from '@modelcontextprotocol/client';
import type { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { usePassthroughAccounts, useSimulatorBehindHttp } from './helpers/fixtures.js';
import { connectHttp, INITIALIZE, legacyPost, messages, startHttp } from './helpers/http.js';
import { type McpSession, text } from './helpers/mcp.js';

const TOKEN = 'tok_http_notify_0123456789abcdef';
const KEY = 'sk_http_notify_server_key_0123456789';

/** Resolves with the first updated URI matching, or rejects after a generous deadline (a hang, not a timing). */
function waitFor<T>(register: (resolve: (v: T) => void) => void, what: string, ms = 15_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${what}`)), ms);
    register((v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

async function telemetryBrowser(mcp: McpSession): Promise<string> {
  const created = await mcp.call('browsers_create', { headless: true, telemetry: { browser: {} } });
  expect(created.isError, text(created)).toBeFalsy();
  return (created.structuredContent as { session_id: string }).session_id;
}

describe('resource update notifications over HTTP', () => {
  const fixture = useSimulatorBehindHttp({ key: KEY, token: TOKEN });

  it('reaches a 2026-07-28 client on its subscriptions/listen stream', async () => {
    const mcp = await connectHttp('modern', fixture.srv.url, { token: TOKEN });
    const client = mcp.client as unknown as ModernClient;
    try {
      const id = await telemetryBrowser(mcp);
      const uri = `kernel://browsers/${id}/telemetry`;
      const updated = waitFor<string>((resolve) => {
        client.setNotificationHandler('notifications/resources/updated', (n) => {
          if (n.params.uri === uri) resolve(n.params.uri);
        });
      }, 'notifications/resources/updated on the listen stream');
      const sub = await client.listen({ resourceSubscriptions: [uri] });
      expect(sub.honoredFilter.resourceSubscriptions).toEqual([uri]);
      expect(fixture.sim.emitTelemetry(id, { type: 'kernel_mcp_test' })).toBeDefined();
      expect(await updated).toBe(uri);
      const read = await client.readResource({ uri });
      expect(JSON.stringify(read.contents)).toContain('kernel_mcp_test');
      await sub.close();
      expect(await sub.closed).toBe('local');
    } finally {
      await mcp.close();
    }
  });

  it('reaches a 2025-11-25 client on its session GET stream', async () => {
    const mcp = await connectHttp('legacy', fixture.srv.url, { token: TOKEN });
    const client = mcp.client as unknown as LegacyClient;
    try {
      const id = await telemetryBrowser(mcp);
      const uri = `kernel://browsers/${id}/telemetry`;
      const updated = waitFor<string>((resolve) => {
        client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
          if (n.params.uri === uri) resolve(n.params.uri);
        });
      }, 'notifications/resources/updated on the session stream');
      await client.subscribeResource({ uri });
      expect(fixture.sim.emitTelemetry(id, { type: 'kernel_mcp_test_legacy' })).toBeDefined();
      expect(await updated).toBe(uri);
      const read = await client.readResource({ uri });
      expect(JSON.stringify(read.contents)).toContain('kernel_mcp_test_legacy');
      await client.unsubscribeResource({ uri });
    } finally {
      await mcp.close();
    }
  });
});

/**
 * What a 2025 session's event store keeps, seen from outside: it numbers every event it stores (`id: <seq>.<stream>`),
 * and a ping's answer stores exactly two (its priming event and the answer). `mark()` notes where the numbering is;
 * `somethingElse()` pings until the store has kept an event no ping caused (a notification), or gives up after a
 * generous deadline.
 */
function storeWatch(url: string, session: Record<string, string>) {
  let next = 0;
  let id = 100;
  const ping = async () => {
    const body = (await legacyPost(url, { id: id++, method: 'ping' }, session)).body;
    const seqs = [...body.matchAll(/^id: (\d+)\./gm)].map((m) => Number(m[1]));
    expect(seqs, body).toHaveLength(2);
    return seqs as [number, number];
  };
  return {
    async mark() {
      next = (await ping())[1] + 1;
    },
    async somethingElse(what: string) {
      for (const deadline = Date.now() + 15_000; Date.now() < deadline; ) {
        const [first, last] = await ping();
        if (first > next) return;
        next = last + 1;
      }
      throw new Error(`the session's event store never kept ${what}`);
    },
  };
}

/** Reads an SSE response until `done(text so far)` holds; rejects after a generous deadline. */
async function readUntil(res: Response, done: (text: string) => boolean, what: string): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = setTimeout(() => void reader.cancel(), 15_000);
  try {
    while (!done(text)) {
      const { value, done: end } = await reader.read();
      if (end) throw new Error(`stream ended before ${what}: ${text}`);
      text += decoder.decode(value, { stream: true });
    }
    return text;
  } finally {
    clearTimeout(deadline);
    reader.releaseLock();
  }
}

describe('legacy GET stream resumption with Last-Event-ID', () => {
  const fixture = useSimulatorBehindHttp({ key: KEY, token: TOKEN });

  it('replays the notifications sent while the stream was down', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const init = await legacyPost(fixture.srv.url, INITIALIZE, auth);
    const sid = String(init.headers['mcp-session-id']);
    const session = { ...auth, 'mcp-session-id': sid };
    expect((await legacyPost(fixture.srv.url, { method: 'notifications/initialized' }, session)).status).toBe(202);
    const getHeaders = { ...session, accept: 'text/event-stream', 'mcp-protocol-version': '2025-11-25' };
    // Stream up before the browser is created, so the list change its creation announces arrives on it.
    const first = await fetch(fixture.srv.url, { headers: getHeaders });
    expect(first.status).toBe(200);
    const created = messages(
      (
        await legacyPost(
          fixture.srv.url,
          {
            id: 2,
            method: 'tools/call',
            params: { name: 'browsers_create', arguments: { telemetry: { browser: {} } } },
          },
          session,
        )
      ).body,
    ).find((m) => m.id === 2) as { result: { structuredContent: { session_id: string } } };
    const id = created.result.structuredContent.session_id;
    const uri = `kernel://browsers/${id}/telemetry`;

    // Subscribe, get the list change and one update, note the last event id, then drop the stream.
    expect(
      (await legacyPost(fixture.srv.url, { id: 3, method: 'resources/subscribe', params: { uri } }, session)).status,
    ).toBe(200);
    fixture.sim.emitTelemetry(id, { type: 'before_drop' });
    const seen = await readUntil(
      first,
      (t) => t.includes('notifications/resources/updated') && t.includes('notifications/resources/list_changed'),
      'the list change and the first update',
    );
    const lastId = [...seen.matchAll(/^id: (.+)$/gm)].at(-1)?.[1];
    expect(lastId).toBeTruthy();
    await first.body!.cancel();

    // Stream down: a change happens; its notification (the only one to come) waits in the session's event store,
    // stored whether or not the server has noticed the dropped stream yet, which the pings see in their event ids.
    const stored = storeWatch(fixture.srv.url, session);
    await stored.mark();
    fixture.sim.emitTelemetry(id, { type: 'during_drop' });
    await stored.somethingElse('the notification sent while the stream was down');
    // No new notification can come after this: whatever the resumed stream carries is a replay.
    expect(
      (await legacyPost(fixture.srv.url, { id: 4, method: 'resources/unsubscribe', params: { uri } }, session)).status,
    ).toBe(200);

    // Stream back with Last-Event-ID: what was missed is replayed.
    const resumed = await fetch(fixture.srv.url, { headers: { ...getHeaders, 'last-event-id': lastId! } });
    expect(resumed.status).toBe(200);
    const replay = await readUntil(resumed, (t) => t.includes('notifications/resources/updated'), 'the replay');
    expect(replay).toContain(uri);
    expect(replay).not.toContain(`id: ${lastId}\n`);
    await resumed.body!.cancel();
  });
});

describe('passthrough: updates stay with the key that caused them', () => {
  const KEY_A = 'sk_notify_alice_0123456789';
  const KEY_B = 'sk_notify_bob_9876543210';
  const accounts = usePassthroughAccounts(KEY_A, KEY_B);

  it("never delivers A's update to B, even on the same URI", async () => {
    const a = await connectHttp('modern', accounts.srv.url, { token: KEY_A });
    const b = await connectHttp('modern', accounts.srv.url, { token: KEY_B });
    const ca = a.client as unknown as ModernClient;
    const cb = b.client as unknown as ModernClient;
    try {
      const id = await telemetryBrowser(a);
      const uri = `kernel://browsers/${id}/telemetry`;
      const seenByB: string[] = [];
      cb.setNotificationHandler('notifications/resources/updated', (n) => {
        seenByB.push(n.params.uri);
      });
      // B names the same URI; in B's account that browser does not exist, so nothing of B's ever changes there.
      const subB = await cb.listen({ resourceSubscriptions: [uri], resourcesListChanged: true });
      // B's own stream (a browser its account lacks) ends at once, which is an update of B's; let that pass.
      for (let i = 0; i < 300 && seenByB.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
      expect(seenByB).toEqual([uri]);
      seenByB.length = 0;
      const updatedA = waitFor<string>((resolve) => {
        ca.setNotificationHandler('notifications/resources/updated', (n) => {
          if (n.params.uri === uri) resolve(n.params.uri);
        });
      }, 'the update for A');
      const subA = await ca.listen({ resourceSubscriptions: [uri] });
      expect(accounts.simA.emitTelemetry(id, { type: 'only_for_a' })).toBeDefined();
      expect(await updatedA).toBe(uri);
      // Both streams live in this one process: had B's stream been on A's bus, A's update would have been written to
      // it in the same publish, before anything B does next. B's own next change comes after it on the same stream.
      const listChangedB = waitFor<void>((resolve) => {
        cb.setNotificationHandler('notifications/resources/list_changed', () => resolve());
      }, "B's own list change");
      await telemetryBrowser(b);
      await listChangedB;
      expect(seenByB).toEqual([]);
      for (const r of accounts.simB.requests) expect(r.headers.authorization).toBe(`Bearer ${KEY_B}`);
      for (const r of accounts.simA.requests) expect(r.headers.authorization).toBe(`Bearer ${KEY_A}`);
      await subA.close();
      await subB.close();
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('listen streams on shutdown', () => {
  it('ends a modern listen stream gracefully on SIGTERM', async () => {
    const srv = await startHttp({ args: ['--simulate'] });
    try {
      const mcp = await connectHttp('modern', srv.url);
      const client = mcp.client as unknown as ModernClient;
      const sub = await client.listen({ resourcesListChanged: true });
      expect(sub.honoredFilter).toMatchObject({ resourcesListChanged: true });
      srv.proc.kill('SIGTERM');
      expect(await sub.closed).toBe('graceful');
      expect(await srv.exited).toBe(0);
      await mcp.close().catch(() => {});
    } finally {
      await srv.stop();
    }
  });
});
