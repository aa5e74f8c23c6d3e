/**
 * Hostile clients against the built CLI over HTTP (both eras where a client is involved):
 * - a deeply nested body is refused before it is parsed, and the server keeps answering;
 * - passthrough: a key the Kernel API refuses never becomes a client (401), never makes room by evicting one, and
 *   is never a secret for anyone else (another client's browser id or `127.0.0.1` as a bearer changes no result);
 * - open streams do not count against the request bound; per-key bounds on streams and sessions; a stream's lifetime.
 */
import { describe, expect, it } from 'vitest';
import { usePassthroughAccounts, useSimulatorBehindHttp } from './helpers/fixtures.js';
import { connectHttp, INITIALIZE, legacyPost, rawRequest, sessionIdOf } from './helpers/http.js';
import { ERAS, text } from './helpers/mcp.js';

const KEY = 'sk_hardening_key_0123456789';

/** Opens a 2025 GET stream on a session; resolves with its status and a way to close it. */
async function openStream(url: string, sid: string, token?: string) {
  const controller = new AbortController();
  const res = await fetch(url, {
    headers: {
      accept: 'text/event-stream',
      'mcp-session-id': sid,
      'mcp-protocol-version': '2025-11-25',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    signal: controller.signal,
  });
  return { res, close: () => controller.abort() };
}

describe('a deeply nested body', () => {
  const f = useSimulatorBehindHttp({ key: KEY });

  it('is refused with 400 before it is parsed, and /healthz still answers', async () => {
    const depth = 3_000_000;
    const body = Buffer.alloc(depth * 2);
    body.fill('[', 0, depth);
    body.fill(']', depth);
    const res = await rawRequest(f.srv.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body,
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatch(/nested deeper than 64 levels/);
    const health = await rawRequest(f.srv.url.replace('/mcp', '/healthz'));
    expect(health.status).toBe(200);
    // Ordinary nesting is fine.
    const ok = await legacyPost(f.srv.url, INITIALIZE);
    expect(ok.status).toBe(200);
  });
});

describe('passthrough admission and redaction', () => {
  const KEY_A = 'sk_hardening_alice_0123456789';
  const KEY_B = 'sk_hardening_bob_9876543210';
  // Room for two keys' tenants and sessions only: made-up keys must not take any of it.
  const acc = usePassthroughAccounts(KEY_A, KEY_B, ['--max-sessions', '2']);

  it.each(ERAS)('a made-up key gets 401, creates nothing and evicts nobody (%s client)', async (era) => {
    const a = await connectHttp(era, acc.srv.url, { token: KEY_A });
    try {
      const created = await a.call('browsers_create', { headless: true });
      expect(created.isError, text(created)).toBeFalsy();
      const browser = created.structuredContent as { session_id: string; cdp_ws_url: string };
      // Bearers a hostile client might try: another client's browser id, a loopback address, random keys.
      const made = [browser.session_id, '127.0.0.1', ...Array.from({ length: 8 }, (_, i) => `sk_madeup_${i}_0000000`)];
      for (const bearer of made) {
        const res = await legacyPost(acc.srv.url, INITIALIZE, { authorization: `Bearer ${bearer}` });
        expect(res.status, bearer).toBe(401);
        expect(res.body).toMatch(/did not accept this key/);
      }
      // Alice's client still works, and her results are not blanked out by anyone else's bearer.
      const again = await a.call('browsers_retrieve', { id: browser.session_id });
      expect(again.isError, text(again)).toBeFalsy();
      expect(text(again)).toContain(browser.session_id);
      expect(text(again)).toContain('127.0.0.1');
      expect(text(again)).not.toContain('[redacted]');
      // And a second real key is still admitted.
      const b = await connectHttp(era, acc.srv.url, { token: KEY_B });
      try {
        const list = await b.call('browsers_list', {});
        expect(list.isError, text(list)).toBeFalsy();
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
    }
  });

  it("redacts a key in its own client's output, and only there", async () => {
    const a = await connectHttp('modern', acc.srv.url, { token: KEY_A });
    const b = await connectHttp('modern', acc.srv.url, { token: KEY_B });
    try {
      // Each writes a file holding both keys and reads it back.
      for (const [c, name] of [
        [a, 'a'],
        [b, 'b'],
      ] as const) {
        const created = await c.call('browsers_create', { headless: true });
        const id = (created.structuredContent as { session_id: string }).session_id;
        const content = Buffer.from(`alice=${KEY_A}\nbob=${KEY_B}\n`).toString('base64');
        const w = await c.call('browsers_fs_write_file', { id, path: `/tmp/${name}.txt`, content });
        expect(w.isError, text(w)).toBeFalsy();
        const r = await c.call('browsers_fs_read_file', { id, path: `/tmp/${name}.txt` });
        const got = JSON.stringify(r.content);
        const own = name === 'a' ? KEY_A : KEY_B;
        const other = name === 'a' ? KEY_B : KEY_A;
        expect(got).not.toContain(own);
        expect(got).toContain(other);
      }
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('streams are not requests', () => {
  const KEY_A = 'sk_streams_alice_0123456789';
  const KEY_B = 'sk_streams_bob_9876543210';
  const acc = usePassthroughAccounts(KEY_A, KEY_B, [
    '--max-concurrent-requests',
    '2',
    '--max-client-streams',
    '3',
    '--max-client-sessions',
    '4',
    '--stream-max-ms',
    '1500',
  ]);

  it('lets calls through beside many open streams, bounds streams and sessions per key, and ends old streams', async () => {
    const sids: string[] = [];
    for (let i = 0; i < 4; i++) {
      sids.push(sessionIdOf(await legacyPost(acc.srv.url, INITIALIZE, { authorization: `Bearer ${KEY_A}` })));
    }
    const streams = [];
    for (let i = 0; i < 3; i++) streams.push(await openStream(acc.srv.url, sids[i]!, KEY_A));
    for (const s of streams) expect(s.res.status).toBe(200);
    // Three open streams, a request bound of two: calls still go through.
    for (let i = 0; i < 3; i++) {
      const r = await legacyPost(
        acc.srv.url,
        { id: 10 + i, method: 'tools/list' },
        {
          'mcp-session-id': sids[0]!,
          authorization: `Bearer ${KEY_A}`,
        },
      );
      expect(r.status).toBe(200);
    }
    // The key's fourth stream is refused; another key's first is not.
    const fourth = await openStream(acc.srv.url, sids[3]!, KEY_A);
    expect(fourth.res.status).toBe(503);
    expect(await fourth.res.text()).toMatch(/Too many open streams for this key \(at most 3\)/);
    const sidB = sessionIdOf(await legacyPost(acc.srv.url, INITIALIZE, { authorization: `Bearer ${KEY_B}` }));
    const other = await openStream(acc.srv.url, sidB, KEY_B);
    expect(other.res.status).toBe(200);
    other.close();
    // A fifth session of the key makes room among its own idle sessions (the fourth, which has no stream).
    const fifth = await legacyPost(acc.srv.url, INITIALIZE, { authorization: `Bearer ${KEY_A}` });
    expect(fifth.status).toBe(200);
    // B's session is untouched.
    const bOk = await legacyPost(
      acc.srv.url,
      { id: 2, method: 'tools/list' },
      {
        'mcp-session-id': sidB,
        authorization: `Bearer ${KEY_B}`,
      },
    );
    expect(bOk.status).toBe(200);
    // Streams carry heartbeats between events and end at --stream-max-ms (the client reconnects).
    const bodies = await Promise.all(
      streams.map(async (s) => {
        let seen = '';
        const reader = s.res.body!.getReader();
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) return { seen, ended: true };
            seen += Buffer.from(value).toString();
          }
        } catch {
          return { seen, ended: true };
        }
      }),
    );
    for (const b of bodies) {
      expect(b.ended).toBe(true);
      expect(b.seen).toContain(': keep-alive\n\n');
    }
  });
});

describe('many clients', () => {
  const f = useSimulatorBehindHttp({ key: KEY });
  const CLIENTS = 200;
  const CALLS = 5;

  it.each(ERAS)(
    `${CLIENTS} %s clients x ${CALLS} calls, each 2025 client holding its GET stream: zero errors`,
    async (era) => {
      const clients = await Promise.all(Array.from({ length: CLIENTS }, () => connectHttp(era, f.srv.url)));
      try {
        const errors: string[] = [];
        await Promise.all(
          clients.map(async (c) => {
            for (let i = 0; i < CALLS; i++) {
              try {
                const r = await c.call('browsers_list', { limit: 1 });
                if (r.isError) errors.push(text(r));
              } catch (err) {
                errors.push(String(err));
              }
            }
          }),
        );
        expect(errors.slice(0, 3)).toEqual([]);
      } finally {
        await Promise.all(clients.map((c) => c.close().catch(() => {})));
      }
    },
  );
});
