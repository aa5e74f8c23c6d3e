/**
 * `npm run check:imports` (dependency-cruiser, .dependency-cruiser.cjs) passes on the checkout and fails on each kind
 * of import the architecture forbids, planted into a temporary copy of src/ and simulator/.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

let copy: string | undefined;
afterEach(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
  copy = undefined;
});

/** A copy of the import check's inputs; `plant` edits files in it (path relative to the copy → new text). */
function checkCopy(plant: Record<string, (source: string) => string> = {}): { status: number | null; out: string } {
  copy = mkdtempSync(join(tmpdir(), 'kernel-mcp-imports-'));
  for (const entry of ['src', 'simulator', '.dependency-cruiser.cjs', 'package.json']) {
    cpSync(join(ROOT, entry), join(copy, entry), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  for (const [file, edit] of Object.entries(plant)) {
    const path = join(copy, file);
    let source = '';
    try {
      source = readFileSync(path, 'utf8');
    } catch {}
    const edited = edit(source);
    expect(edited, `the plant in ${file} changed nothing`).not.toBe(source);
    writeFileSync(path, edited);
  }
  const run = spawnSync(process.execPath, [DEPCRUISE, '--config', '.dependency-cruiser.cjs', 'src', 'simulator'], {
    cwd: copy,
    encoding: 'utf8',
  });
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
}

/** Adds an import at the top of a module (after its shebang, if it has one). */
const prepend = (line: string) => (source: string) => source.replace(/^(#!.*\n)?/, `$1${line}\n`);

describe('the import check', () => {
  it('passes on the checkout as it is', () => {
    const { status, out } = checkCopy();
    expect(out).toContain('no dependency violations found');
    expect(status).toBe(0);
  });

  it.each([
    // A cycle through a type-only import: the kernel client's log reaching back into the client.
    ['no-cycle', { 'src/log.ts': prepend("import type { KernelClient } from './kernel/client.js';") }],
    // Upward: a tool reaching the server that assembles it; the kernel reaching the tools.
    ['no-upward-import-from-tools', { 'src/tools/results.ts': prepend("import type {} from '../server.js';") }],
    ['no-upward-import-from-kernel', { 'src/kernel/paths.ts': prepend("import '../tools/suggest.js';") }],
    ['no-upward-import-from-base', { 'src/version.ts': prepend("import type {} from './kernel/errors.js';") }],
    // Product ↔ simulator.
    [
      'product-reaches-simulator-only-through-cli',
      { 'src/http/respond.ts': prepend("import type {} from '../../simulator/errors.js';") },
    ],
    [
      'simulator-imports-only-itself',
      { 'simulator/errors.ts': prepend("import type {} from '../src/kernel/errors.js';") },
    ],
    ['cli-loads-simulator-on-demand', { 'src/cli.ts': prepend("import '../simulator/index.js';") }],
    ['cli-reaches-simulator-only-through-its-entry', { 'src/cli.ts': prepend("import '../simulator/errors.js';") }],
    // A new module nobody placed in a layer.
    ['every-module-in-a-layer', { 'src/stray.ts': () => "export { VERSION } from './version.js';\n" }],
  ])('fails on %s', (rule, plant) => {
    const { status, out } = checkCopy(plant);
    expect(out).toContain(`error ${rule}:`);
    expect(status).not.toBe(0);
  });
});
