/**
 * What reaches the API, checked at the simulator: path parameters with reserved characters arrive as one encoded
 * segment, and a list's `offset` travels through a page cut at the answer budget, so `next_offset` walks the whole
 * list once. The built CLI over stdio, a client of each era.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useSimulator } from './helpers/fixtures.js';
import { connectStdio, ERAS, type McpSession, text } from './helpers/mcp.js';

const KEY = 'sk_wire_e2e_key_0123456789';

const sim = useSimulator({ apiKey: KEY });

interface Page {
  items: { id: string; name: string }[];
  has_more: boolean;
  next_offset: number | null;
  note?: string;
}

describe.each(ERAS)('what reaches the API (%s client)', (era) => {
  let mcp: McpSession;
  beforeAll(async () => {
    // The smallest answer budget (1000 tokens = 4000 characters), so a page of long-named profiles is cut.
    mcp = await connectStdio(era, {
      args: ['--toolsets', 'all', '--max-result-tokens', '1000'],
      env: { KERNEL_API_KEY: KEY, KERNEL_BASE_URL: sim.url },
    });
  });
  afterAll(async () => {
    await mcp?.close();
  });

  it('sends a path parameter with reserved characters as one encoded segment', async () => {
    // Slash, query, fragment, percent, space and ampersand: each would change the request if sent raw.
    const name = `${era} a/b?c#d%e f&g`;
    const created = await mcp.call('credentials_create', {
      name,
      domain: 'example.com',
      values: { username: 'u', password: 'p' },
    });
    expect(created.isError, text(created)).toBeFalsy();
    const id = (created.structuredContent as { id: string }).id;

    sim.resetRequests();
    const got = await mcp.call('credentials_retrieve', { id_or_name: name });
    expect(got.isError, text(got)).toBeFalsy();
    expect((got.structuredContent as { id: string; name: string }).id).toBe(id);
    expect(sim.requests.map((r) => [r.method, r.path, r.query])).toEqual([
      ['GET', `/credentials/${era}%20a%2Fb%3Fc%23d%25e%20f%26g`, {}],
    ]);

    // An unknown id with the same characters is a 404 naming the whole id, not a different route.
    sim.resetRequests();
    const missing = await mcp.call('browsers_retrieve', { id: 'x/credentials?x=1#y' });
    expect(missing.isError).toBe(true);
    expect(text(missing)).toContain("'x/credentials?x=1#y' not found");
    expect(sim.requests.map((r) => r.path)).toEqual(['/browsers/x%2Fcredentials%3Fx%3D1%23y']);

    // With a dot-dot segment in it, the id is refused before any request (a server that decodes %2F would climb).
    sim.resetRequests();
    const climbing = await mcp.call('browsers_retrieve', { id: '../credentials?x=1#y' });
    expect(climbing.isError).toBe(true);
    expect(text(climbing)).toMatch(/^Invalid argument id: .*'\.\.' path segment/);
    expect(sim.requests).toEqual([]);
  });

  it('continues a cut page from the offset it was asked for, through the whole list', async () => {
    const prefix = `paging-${era}-`;
    const names = Array.from({ length: 40 }, (_, i) => `${prefix}${String(i).padStart(2, '0')}-${'n'.repeat(140)}`);
    for (const name of names) {
      const r = await mcp.call('profiles_create', { name });
      expect(r.isError, text(r)).toBeFalsy();
    }
    // The API's own order, straight from the simulator.
    const res = await fetch(`${sim.url}/profiles?limit=100`, { headers: { authorization: `Bearer ${KEY}` } });
    const all = ((await res.json()) as { id: string; name: string }[]).filter((p) => p.name.startsWith(prefix));
    expect(all.map((p) => p.name).sort()).toEqual(names);

    // A page asked for at offset 3 is cut at the budget; it starts at the fourth profile, and continues after it.
    const first = (await mcp.call('profiles_list', { offset: 3, limit: 100 })).structuredContent as unknown as Page;
    expect(first.items.length).toBeGreaterThan(0);
    expect(first.note).toMatch(/cut/);
    expect(first.has_more).toBe(true);
    expect(first.next_offset).toBe(3 + first.items.length);
    expect(first.note).toContain(`offset=${first.next_offset}`);

    // Following next_offset from 0 visits every profile exactly once, in the API's order.
    const seen: string[] = [];
    let offset: number | null = 0;
    for (let pages = 0; offset !== null && pages < 60; pages++) {
      const r = await mcp.call('profiles_list', { offset, limit: 100 });
      expect(r.isError, text(r)).toBeFalsy();
      const page = r.structuredContent as unknown as Page;
      seen.push(...page.items.map((p) => p.id));
      offset = page.has_more ? page.next_offset : null;
    }
    expect(offset).toBeNull();
    const listed = await fetch(`${sim.url}/profiles?limit=100`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(seen).toEqual(((await listed.json()) as { id: string }[]).map((p) => p.id));
    expect(seen.slice(3, 3 + first.items.length)).toEqual(first.items.map((p) => p.id));
  });
});
