#!/usr/bin/env node
/**
 * Whole-program coverage of the product (src/ without generated data; the simulator is a separate program).
 *
 *   npm run coverage [-- <vitest args>]
 *
 * 1. Builds dist/ with source maps: tsc's modules and the bin's bundle (scripts/build-bin.mjs), both mapped to src/.
 * 2. Runs the test suite with vitest's V8 coverage (the code the test workers run in process), while every process
 *    a test spawns (the built CLI over stdio and HTTP) writes its own V8 coverage (test/setup/child-coverage.ts).
 * 3. Merges the children's V8 coverage per script, maps it from dist/ back to src/ through the source maps with the
 *    converter vitest itself uses (ast-v8-to-istanbul), and merges it with the workers' coverage, statement by
 *    statement and branch by branch (keyed by where each starts in the source).
 * 4. Prints a per-file table and the totals, writes coverage/coverage-summary.json, and fails when lines < 90% or
 *    branches < 80% (override with COVERAGE_MIN_LINES / COVERAGE_MIN_BRANCHES), or when the tests fail.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import convert from 'ast-v8-to-istanbul';
import libCoverage from 'istanbul-lib-coverage';
import libReport from 'istanbul-lib-report';
import reports from 'istanbul-reports';
import { parseAstAsync } from 'vite';

const require = createRequire(import.meta.url);
const { mergeProcessCovs } = require('@bcoe/v8-coverage');

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'coverage');
const CHILDREN = join(OUT, 'children');
const WORKERS = join(OUT, 'workers');
const MIN_LINES = Number(process.env.COVERAGE_MIN_LINES ?? 90);
const MIN_BRANCHES = Number(process.env.COVERAGE_MIN_BRANCHES ?? 80);
const DIST_SRC = `${pathToFileURL(join(ROOT, 'dist', 'src')).href}/`;
const isProduct = (rel) => rel.startsWith('src/') && rel.endsWith('.ts') && !rel.startsWith('src/generated/');

function sh(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

rmSync(OUT, { recursive: true, force: true });
mkdirSync(CHILDREN, { recursive: true });

// 1. A build whose source maps lead back to src/.
if (sh('npx', ['tsc', '-p', 'tsconfig.build.json', '--sourceMap', 'true']) !== 0) process.exit(1);
// The bin as `npm run build` makes it (scripts/build-bin.mjs), unminified and with maps back to src/*.ts.
if (sh(process.execPath, [join(ROOT, 'scripts', 'build-bin.mjs'), '--sourcemap']) !== 0) process.exit(1);

// 2. The suite, in-process coverage by vitest, children's by Node.
const testStatus = sh(
  process.execPath,
  [
    join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'),
    'run',
    '--coverage.enabled',
    '--coverage.provider=v8',
    '--coverage.include=src/**/*.ts',
    '--coverage.exclude=src/generated/**',
    '--coverage.reporter=json',
    `--coverage.reportsDirectory=${WORKERS}`,
    '--coverage.reportOnFailure',
    ...process.argv.slice(2),
  ],
  { KERNEL_MCP_CHILD_COVERAGE: CHILDREN },
);

// 3. Children: merge per script (the bin's bundle and chunks), then map it back to src/*.ts.
function childScripts() {
  const covs = [];
  for (const name of readdirSync(CHILDREN)) {
    if (!name.endsWith('.json')) continue;
    let data;
    try {
      data = JSON.parse(readFileSync(join(CHILDREN, name), 'utf8'));
    } catch {
      continue; // a child killed while writing
    }
    const result = (data.result ?? []).filter((s) => s.url.startsWith(DIST_SRC) && !s.url.includes('/generated/'));
    if (result.length) covs.push({ result });
  }
  return covs.length ? mergeProcessCovs(covs).result : [];
}

async function childCoverage() {
  const map = libCoverage.createCoverageMap({});
  const scripts = childScripts();
  for (const script of scripts) {
    const file = fileURLToPath(script.url);
    const mapFile = `${file}.map`;
    if (!existsSync(mapFile)) throw new Error(`${relative(ROOT, mapFile)} is missing: the build must emit source maps`);
    const code = readFileSync(file, 'utf8');
    const sourceMap = JSON.parse(readFileSync(mapFile, 'utf8'));
    sourceMap.sources = sourceMap.sources.map((s) => new URL(s, script.url).href);
    const data = await convert({
      code,
      sourceMap,
      ast: await parseAstAsync(code),
      coverage: { url: script.url, functions: script.functions },
      wrapperLength: 0,
    });
    map.merge(data);
  }
  return { map, scripts: scripts.length };
}

/** One file's coverage keyed by where each statement, function and branch starts, so both views line up. */
function keyed(fc) {
  const pos = (p) => `${p.line}:${p.column}`;
  const statements = new Map();
  for (const [id, loc] of Object.entries(fc.statementMap)) {
    const k = pos(loc.start);
    const prev = statements.get(k);
    statements.set(k, { loc: prev?.loc ?? loc, count: (prev?.count ?? 0) + fc.s[id] });
  }
  const functions = new Map();
  for (const [id, f] of Object.entries(fc.fnMap)) {
    const k = pos(f.decl.start);
    const prev = functions.get(k);
    functions.set(k, { meta: prev?.meta ?? f, count: (prev?.count ?? 0) + fc.f[id] });
  }
  const branches = new Map();
  for (const [id, b] of Object.entries(fc.branchMap)) {
    const k = `${pos(b.loc.start)}:${b.type}`;
    const counts = fc.b[id];
    const prev = branches.get(k);
    if (!prev) branches.set(k, { meta: b, counts: [...counts] });
    else if (prev.counts.length === counts.length) prev.counts = prev.counts.map((c, i) => c + counts[i]);
    else if (counts.length > prev.counts.length) branches.set(k, { meta: b, counts: [...counts] });
  }
  return { statements, functions, branches };
}

function mergeKeyed(a, b) {
  for (const [k, v] of b.statements) {
    const prev = a.statements.get(k);
    a.statements.set(k, prev ? { loc: prev.loc, count: prev.count + v.count } : v);
  }
  for (const [k, v] of b.functions) {
    const prev = a.functions.get(k);
    a.functions.set(k, prev ? { meta: prev.meta, count: prev.count + v.count } : v);
  }
  for (const [k, v] of b.branches) {
    const prev = a.branches.get(k);
    if (!prev) a.branches.set(k, v);
    else if (prev.counts.length === v.counts.length) prev.counts = prev.counts.map((c, i) => c + v.counts[i]);
  }
  return a;
}

function unkeyed(path, k) {
  const out = { path, statementMap: {}, s: {}, fnMap: {}, f: {}, branchMap: {}, b: {} };
  [...k.statements.values()].forEach((v, i) => {
    out.statementMap[i] = v.loc;
    out.s[i] = v.count;
  });
  [...k.functions.values()].forEach((v, i) => {
    out.fnMap[i] = v.meta;
    out.f[i] = v.count;
  });
  [...k.branches.values()].forEach((v, i) => {
    out.branchMap[i] = v.meta;
    out.b[i] = v.counts;
  });
  return out;
}

const workersFile = join(WORKERS, 'coverage-final.json');
if (!existsSync(workersFile)) {
  console.error(`coverage: vitest wrote no ${relative(ROOT, workersFile)}`);
  process.exit(1);
}
const workers = libCoverage.createCoverageMap(JSON.parse(readFileSync(workersFile, 'utf8')));
const children = await childCoverage();

const merged = libCoverage.createCoverageMap({});
const files = new Set([...workers.files(), ...children.map.files()].filter((f) => isProduct(relative(ROOT, f))));
for (const file of [...files].sort()) {
  const parts = [workers, children.map]
    .filter((m) => m.files().includes(file))
    .map((m) => keyed(m.fileCoverageFor(file).toJSON()));
  const k = parts.reduce((a, b) => mergeKeyed(a, b));
  merged.addFileCoverage(unkeyed(file, k));
}

const context = libReport.createContext({ dir: OUT, coverageMap: merged, defaultSummarizer: 'flat' });
reports.create('text', { skipFull: true, maxCols: 120 }).execute(context);
reports.create('json-summary').execute(context);
reports.create('html', { subdir: 'html' }).execute(context);

const total = merged.getCoverageSummary();
const lines = total.lines.pct;
const branches = total.branches.pct;
console.log(
  `\ncoverage of src/ (without generated data; ${children.scripts} scripts from spawned processes merged): ` +
    `lines ${lines}% (min ${MIN_LINES}%), branches ${branches}% (min ${MIN_BRANCHES}%), ` +
    `functions ${total.functions.pct}%, statements ${total.statements.pct}%`,
);
writeFileSync(
  join(OUT, 'summary.txt'),
  `lines ${lines}% branches ${branches}% functions ${total.functions.pct}% statements ${total.statements.pct}%\n`,
);
let status = testStatus === 0 ? 0 : 1;
if (testStatus !== 0) console.error('coverage: the tests failed');
if (lines < MIN_LINES) {
  console.error(`coverage: lines ${lines}% is under ${MIN_LINES}%`);
  status = 1;
}
if (branches < MIN_BRANCHES) {
  console.error(`coverage: branches ${branches}% is under ${MIN_BRANCHES}%`);
  status = 1;
}
process.exit(status);
