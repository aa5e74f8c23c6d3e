#!/usr/bin/env node
/**
 * `npm run mutate [-- <stryker args>]`: runs StrykerJS (stryker.config.mjs), then writes each module's mutation score
 * with the date into the README between the mutation markers. A run over some modules (`-- --mutate src/x.ts`)
 * updates their rows and keeps the others' (with their own dates); `--readme-only --mutate src/x.ts` writes the rows
 * of a finished run again. Exits with Stryker's status (it fails under the configured `break` threshold).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REPORT = join(ROOT, 'reports', 'mutation', 'mutation.json');
const README = join(ROOT, 'README.md');
const START = '<!-- mutation:start -->';
const END = '<!-- mutation:end -->';

const onlyReadme = process.argv.includes('--readme-only');

/**
 * The modules a `--mutate a.ts,b.ts` run scored: only their rows change (the report also carries the other modules'
 * results as the incremental file last had them, which may be stale). A `file:lines` range scores part of a module
 * and changes no row. Undefined: every module of the report.
 */
function scoredModules(args) {
  const values = [];
  args.forEach((a, k) => {
    if (a === '--mutate' || a === '-m') values.push(args[k + 1] ?? '');
    else if (a.startsWith('--mutate=')) values.push(a.slice('--mutate='.length));
  });
  if (values.length === 0) return undefined;
  return new Set(
    values
      .flatMap((v) => v.split(','))
      .map((f) => f.trim())
      .filter((f) => f && !f.includes(':')),
  );
}
const scored = scoredModules(process.argv.slice(2));
let status = 0;
if (!onlyReadme) {
  const r = spawnSync('npx', ['stryker', 'run', ...process.argv.slice(2)], { cwd: ROOT, stdio: 'inherit' });
  status = r.status ?? 1;
}
if (!existsSync(REPORT)) {
  console.error(`mutate: no ${REPORT}; the README is unchanged`);
  process.exit(status || 1);
}

const report = JSON.parse(readFileSync(REPORT, 'utf8'));
const date = new Date().toISOString().slice(0, 10);
const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

/** module -> cells [module, score, killed, survived, no coverage, date] */
const rows = new Map();
const text = readFileSync(README, 'utf8');
const i = text.indexOf(START);
const j = text.indexOf(END);
if (i < 0 || j < i) {
  console.error(`mutate: README.md has no ${START} ... ${END} markers`);
  process.exit(status || 1);
}
for (const line of text.slice(i + START.length, j).split('\n')) {
  const cells = line
    .split('|')
    .slice(1, -1)
    .map((c) => c.trim());
  if (cells.length === 6 && cells[0].startsWith('`src/')) rows.set(cells[0], cells);
}
for (const [file, data] of Object.entries(report.files ?? {})) {
  if (scored && !scored.has(file)) continue;
  const mutants = data.mutants ?? [];
  const killed = mutants.filter((m) => DETECTED.has(m.status)).length;
  const survived = mutants.filter((m) => m.status === 'Survived').length;
  const noCoverage = mutants.filter((m) => m.status === 'NoCoverage').length;
  const valid = mutants.filter((m) => DETECTED.has(m.status) || UNDETECTED.has(m.status)).length;
  const score = valid ? ((killed / valid) * 100).toFixed(1) : '—';
  rows.set(`\`${file}\``, [`\`${file}\``, `${score}%`, String(killed), String(survived), String(noCoverage), date]);
}
const sorted = [...rows.values()].sort((a, b) => a[0].localeCompare(b[0]));
const sum = (k) => sorted.reduce((n, r) => n + Number(r[k]), 0);
const [killed, survived, uncovered] = [sum(2), sum(3), sum(4)];
const all = killed + survived + uncovered;
const block = [
  '| Module | Mutation score | Killed | Survived | No coverage | Date |',
  '| --- | ---: | ---: | ---: | ---: | --- |',
  ...sorted.map((r) => `| ${r.join(' | ')} |`),
  `| all | ${all ? ((killed / all) * 100).toFixed(1) : '—'}% | ${killed} | ${survived} | ${uncovered} | |`,
].join('\n');
writeFileSync(README, `${text.slice(0, i + START.length)}\n${block}\n${text.slice(j)}`);
console.log(`mutate: README.md mutation scores updated (${date})`);
process.exit(status);
