/**
 * Passthrough auth: each client's own Kernel key reaches the API, and nothing else does. Two simulators behind a
 * router that picks one by the bearer key stand in for two Kernel accounts.
 */
import { describe, expect, it } from 'vitest';
import { usePassthroughAccounts } from './helpers/fixtures.js';
import { connectHttp, INITIALIZE, legacyPost, sessionIdOf } from './helpers/http.js';
import { ERAS, text } from './helpers/mcp.js';

describe('passthrough: each client reaches the API with its own key', () => {
  const KEY_A = 'sk_passthrough_alice_0123456789';
  const KEY_B = 'sk_passthrough_bob_9876543210';
  const accounts = usePassthroughAccounts(KEY_A, KEY_B);

  describe.each(ERAS)('%s clients', (era) => {
    it('sends each key only its own requests and shows each client only its own state', async () => {
      const a = await connectHttp(era, accounts.srv.url, { token: KEY_A });
      const b = await connectHttp(era, accounts.srv.url, { token: KEY_B });
      try {
        accounts.simA.resetRequests();
        accounts.simB.resetRequests();
        const ca = await a.call('browsers_create', { headless: true });
        const cb = await b.call('browsers_create', { headless: true });
        expect(ca.isError, text(ca)).toBeFalsy();
        expect(cb.isError, text(cb)).toBeFalsy();
        const idA = (ca.structuredContent as { session_id: string }).session_id;
        const idB = (cb.structuredContent as { session_id: string }).session_id;
        const la = (await a.call('browsers_list', { limit: 100 })).structuredContent as {
          items: { session_id: string }[];
        };
        const lb = (await b.call('browsers_list', { limit: 100 })).structuredContent as {
          items: { session_id: string }[];
        };
        expect(la.items.map((x) => x.session_id)).toContain(idA);
        expect(lb.items.map((x) => x.session_id)).toContain(idB);
        expect(la.items.map((x) => x.session_id)).not.toContain(idB);
        expect(lb.items.map((x) => x.session_id)).not.toContain(idA);
        const other = await b.call('browsers_retrieve', { id: idA });
        expect(other.isError).toBe(true);
        expect(accounts.simA.requests.length).toBeGreaterThanOrEqual(2);
        expect(accounts.simB.requests.length).toBeGreaterThanOrEqual(2);
        for (const r of accounts.simA.requests) expect(r.headers.authorization).toBe(`Bearer ${KEY_A}`);
        for (const r of accounts.simB.requests) expect(r.headers.authorization).toBe(`Bearer ${KEY_B}`);
      } finally {
        await a.close();
        await b.close();
      }
    });
  });

  it('answers 401 without a key', async () => {
    const res = await legacyPost(accounts.srv.url, INITIALIZE);
    expect(res.status).toBe(401);
    expect(String(res.headers['www-authenticate'])).toMatch(/^Bearer /);
  });

  it("never lets one key use another key's legacy session", async () => {
    const sid = sessionIdOf(await legacyPost(accounts.srv.url, INITIALIZE, { authorization: `Bearer ${KEY_A}` }));
    const stolen = await legacyPost(
      accounts.srv.url,
      { id: 2, method: 'tools/list' },
      { authorization: `Bearer ${KEY_B}`, 'mcp-session-id': sid },
    );
    expect(stolen.status).toBe(404);
    const own = await legacyPost(
      accounts.srv.url,
      { id: 3, method: 'tools/list' },
      { authorization: `Bearer ${KEY_A}`, 'mcp-session-id': sid },
    );
    expect(own.status).toBe(200);
  });

  it('keeps the keys out of stderr', () => {
    expect(accounts.srv.stderr()).not.toContain(KEY_A);
    expect(accounts.srv.stderr()).not.toContain(KEY_B);
  });
});
