#!/usr/bin/env node
/**
 * Plants realistic bugs in the product one at a time, rebuilds, runs the tests that should notice, and reverts.
 * Each bug shipped green once (issue 21): the suite is only trusted where a planted bug makes a test fail.
 *
 *   npm run plant-bugs                 # every plant
 *   npm run plant-bugs -- origin       # the plants whose name contains "origin"
 *
 * Plant sites are found by what the code does, not by line numbers, so refactoring does not silently turn a plant
 * into a no-op: a site that cannot be found (or is found more than once) stops the script with "plant site not found".
 * The original files are restored on every exit path (including Ctrl-C), and the build is redone at the end.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Product source files: src/ without the simulator and generated data. */
function productFiles(under = 'src') {
  const out = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const rel = relative(ROOT, path);
      if (rel.startsWith(join('src', 'generated'))) continue;
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts')) out.push(rel);
    }
  };
  walk(join(ROOT, under));
  return out.sort();
}

/**
 * A plant: a name, the files to search, and `edit(source)` returning every planted variant's [start, end, text]
 * (exactly one site must exist across the files), and the tests that must fail.
 */
const PLANTS = [
  {
    name: 'path parameters no longer URL-encoded',
    // The tool call path: the request builder in src/kernel/ (stream and file resources fill their own templates in
    // src/resources/, which the plant leaves alone).
    files: () => [...productFiles(join('src', 'kernel')), ...productFiles(join('src', 'tools'))],
    // The one place a path template's {name} placeholders are filled: `.replace(/\{...\}/g, ... encodeURIComponent(`
    sites(source) {
      const out = [];
      for (const m of source.matchAll(/\.replace\(\s*\/\\\{[^\n]{0,200}?(encodeURIComponent)\(/g)) {
        const start = m.index + m[0].lastIndexOf('encodeURIComponent');
        out.push([start, start + 'encodeURIComponent'.length, '']);
      }
      return out;
    },
    tests: ['test/wire-e2e.test.ts'],
  },
  {
    name: 'Origin checked on POST only',
    files: () => productFiles(),
    // `if (!<list>.allows(<origin>))` where <origin> is read from `<req>.headers.origin`: refuse only POSTs.
    sites(source) {
      const out = [];
      for (const m of source.matchAll(/if\s*\(\s*!\s*([\w.#]+)\.allows\(([^()]*|[^()]*\([^()]*\)[^()]*)\)\s*\)/g)) {
        const arg = m[2].trim();
        const direct = /(\w+)\.headers\.origin\b/.exec(arg);
        const viaVar = /^\w+$/.test(arg)
          ? new RegExp(`\\b${arg}\\s*=[^;\\n]*?(\\w+)\\.headers\\.origin\\b`).exec(source)
          : null;
        const req = (direct ?? viaVar)?.[1];
        if (!req) continue;
        out.push([m.index, m.index + m[0].length, `if (${req}.method === 'POST' && !${m[1]}.allows(${m[2]}))`]);
      }
      return out;
    },
    tests: ['test/http.test.ts'],
  },
  {
    name: 'list offset ignored (a cut page continues at the wrong place)',
    files: () => productFiles(),
    // The page's starting offset taken from the call's arguments: `offset: <expression reading .offset>`.
    sites(source) {
      const out = [];
      for (const m of source.matchAll(/\boffset\s*:\s*([^,\n;{}]*\b\w+(?:\.offset\b|\[['"]offset['"]\])[^,\n;{}]*)/g)) {
        const start = m.index + m[0].length - m[1].length;
        out.push([start, m.index + m[0].length, '0']);
      }
      return out;
    },
    tests: ['test/wire-e2e.test.ts'],
  },
  {
    name: 'proxy-pool passwords no longer registered for redaction',
    files: () => productFiles(join('src', 'proxy-pool')),
    // Every call that registers a secret in the proxy-pool tools becomes a no-op.
    sites(source) {
      const out = [];
      for (const m of source.matchAll(/\baddSecret\(/g)) out.push([m.index, m.index + 'addSecret'.length, 'void ']);
      return out;
    },
    all: true,
    tests: ['test/reliability/secrets.test.ts'],
  },
];

function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

function build() {
  const r = run('npm', ['run', '-s', 'build']);
  if (r.status !== 0) throw new Error(`build failed:\n${r.stdout}${r.stderr}`);
}

/** Runs vitest on the given files; answers the names of the failed tests (empty when all passed). */
function vitest(files) {
  const dir = mkdtempSync(join(tmpdir(), 'plant-bugs-'));
  const out = join(dir, 'results.json');
  try {
    const r = run(process.execPath, [
      join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'),
      'run',
      ...files,
      '--reporter=json',
      `--outputFile=${out}`,
    ]);
    let results;
    try {
      results = JSON.parse(readFileSync(out, 'utf8'));
    } catch {
      throw new Error(`vitest wrote no results (exit ${r.status}):\n${r.stdout.slice(-2000)}${r.stderr.slice(-2000)}`);
    }
    const failed = results.testResults.flatMap((f) =>
      f.assertionResults.filter((a) => a.status === 'failed').map((a) => `${relative(ROOT, f.name)} > ${a.fullName}`),
    );
    // A file that failed to load counts too.
    for (const f of results.testResults) {
      if (f.status === 'failed' && f.assertionResults.length === 0)
        failed.push(`${relative(ROOT, f.name)} (${f.message})`);
    }
    if (r.status !== 0 && failed.length === 0) failed.push(`vitest exited ${r.status}`);
    return failed;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Finds the plant's sites; exactly one unless `all`. */
function locate(plant) {
  const found = [];
  for (const file of plant.files()) {
    const source = readFileSync(join(ROOT, file), 'utf8');
    const sites = plant.sites(source);
    if (sites.length) found.push({ file, source, sites });
  }
  const count = found.reduce((n, f) => n + f.sites.length, 0);
  if (count === 0 || (!plant.all && count > 1)) {
    const where = found.map((f) => `${f.file} (${f.sites.length})`).join(', ');
    throw new Error(
      `plant site not found for "${plant.name}": ${count === 0 ? 'no match' : `${count} matches: ${where}`}. ` +
        'The code changed shape: update the plant in scripts/plant-bugs.mjs.',
    );
  }
  return found;
}

function planted(source, sites) {
  let out = source;
  for (const [start, end, text] of [...sites].sort((a, b) => b[0] - a[0]))
    out = out.slice(0, start) + text + out.slice(end);
  return out;
}

const filter = process.argv.slice(2).join(' ').toLowerCase();
const chosen = PLANTS.filter((p) => !filter || p.name.toLowerCase().includes(filter));
if (chosen.length === 0) {
  console.error(`no plant matches "${filter}"; plants: ${PLANTS.map((p) => p.name).join('; ')}`);
  process.exit(2);
}

const originals = new Map();
function restore() {
  for (const [file, source] of originals) writeFileSync(join(ROOT, file), source);
  originals.clear();
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    restore();
    process.exit(130);
  });
}

let missed = 0;
try {
  // Every site first, so a stale plant fails before any slow step.
  const located = chosen.map((plant) => ({ plant, found: locate(plant) }));
  const tests = [...new Set(chosen.flatMap((p) => p.tests))];
  console.log(`baseline: ${tests.join(' ')} must pass unplanted`);
  build();
  const baseline = vitest(tests);
  if (baseline.length) throw new Error(`the tests fail without any plant:\n  ${baseline.join('\n  ')}`);

  for (const { plant, found } of located) {
    for (const f of found) {
      originals.set(f.file, f.source);
      writeFileSync(join(ROOT, f.file), planted(f.source, f.sites));
    }
    const where = found.map((f) => f.file).join(', ');
    try {
      build();
      const failed = vitest(plant.tests);
      if (failed.length) {
        console.log(`caught  ${plant.name} (${where}): ${failed.length} failed\n  ${failed.slice(0, 5).join('\n  ')}`);
      } else {
        missed++;
        console.log(`MISSED  ${plant.name} (${where}): ${plant.tests.join(' ')} still pass`);
      }
    } finally {
      restore();
    }
  }
} catch (err) {
  restore();
  console.error(err instanceof Error ? err.message : String(err));
  missed = -1;
} finally {
  restore();
  build();
}
if (missed !== 0) {
  console.error(missed > 0 ? `${missed} planted bug(s) went unnoticed` : 'plant-bugs did not complete');
  process.exit(1);
}
console.log('every planted bug made a test fail');
