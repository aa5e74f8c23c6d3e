/**
 * The checked-in tool snapshot (test/__snapshots__/tools.json) must match what the code publishes: every change
 * to a tool's name, title, description, annotations or input schema shows up in review. `npm run generate`
 * rewrites it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderToolSnapshot } from '../scripts/lib/snapshot.js';
import { VERSION } from '../src/version.js';
import { ROOT } from './helpers/mcp.js';

describe('tool snapshot', () => {
  it('is up to date (run `npm run generate` when this fails)', async () => {
    const current = readFileSync(join(ROOT, 'test/__snapshots__/tools.json'), 'utf8');
    const fresh = await renderToolSnapshot();
    if (current !== fresh) {
      const a = JSON.parse(current) as { name: string }[];
      const b = JSON.parse(fresh) as { name: string }[];
      const changed = b.filter((t) => JSON.stringify(t) !== JSON.stringify(a.find((x) => x.name === t.name)));
      expect.fail(`stale snapshot; changed tools: ${changed.map((t) => t.name).join(', ') || '(order or removals)'}`);
    }
  });

  it('keeps package.json, manifest.json and the server version in step', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const manifest = JSON.parse(readFileSync(join(ROOT, 'manifest.json'), 'utf8'));
    expect(pkg.version).toBe(VERSION);
    expect(manifest.version).toBe(VERSION);
  });
});
