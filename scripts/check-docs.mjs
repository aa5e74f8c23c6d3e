#!/usr/bin/env node
/**
 * `npm run check:docs`: the README says only what the program does. Reads the real README.md, package.json and the
 * built program at check time (others edit them concurrently; nothing here copies today's text), and fails when:
 *
 * - a flag or environment variable the CLI accepts (`kernel-mcp --help`, generated from src/config.ts) is missing
 *   from the README's option tables, or a table's default differs from the program's;
 * - `main`, `exports` or `bin` in package.json name a file the build does not produce;
 * - a message the README quotes is not what the program says (the unknown-toolset error, API errors, /healthz);
 * - the measured tool-list figures between the measure markers differ from a fresh `npm run measure -- --check`;
 * - the benchmark duration the README quotes is not the one bench/results.json recorded.
 *
 * Run after `npm run build` (the npm script builds first).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const problems = [];
const fail = (msg) => problems.push(msg);
const ok = (msg) => console.log(`ok  ${msg}`);

if (!existsSync(CLI)) {
  console.error(`${CLI} is missing: run npm run build first`);
  process.exit(2);
}

function cli(args, env = {}) {
  return spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    input: '',
    encoding: 'utf8',
    timeout: 30_000,
  });
}

/** README table rows (lines starting with `|`), split into trimmed cells. */
const rows = README.split('\n')
  .filter((l) => l.trimStart().startsWith('|'))
  .map((l) =>
    l
      .trim()
      .replace(/^\||\|$/g, '')
      .split(/(?<!\\)\|/)
      .map((c) => c.trim()),
  );

// 1. Every option in the README's tables, with the program's default.
{
  const help = cli(['--help']);
  const options = [
    ...`${help.stdout}${help.stderr}`.matchAll(/^\s+--([a-z0-9-]+)(?: <value>)?\s+([A-Z][A-Z0-9_]+)\s/gm),
  ].map((m) => ({ flag: m[1], env: m[2] }));
  if (options.length < 10) fail(`kernel-mcp --help listed only ${options.length} options: its format changed?`);
  const { makeConfig } = await import(pathToFileURL(join(ROOT, 'dist', 'src', 'config.js')).href);
  const defaults = makeConfig({});
  const camel = (flag) => flag.replace(/-([a-z])/g, (_m, c) => c.toUpperCase());
  let checked = 0;
  for (const { flag, env } of options) {
    const row = rows.find((cells) => cells.some((c) => new RegExp(`^\`--${flag}(?:[ \`]|$)`).test(c)));
    if (!row) {
      fail(`README: no option table row for --${flag} (${env})`);
      continue;
    }
    if (!row.some((c) => c === `\`${env}\``)) fail(`README: the row of --${flag} does not name ${env}`);
    // A default the README states as a literal number must be the program's.
    const value = defaults[camel(flag)];
    const literal = row.find((c) => /^`-?\d+`$/.test(c));
    if (typeof value === 'number' && literal && literal !== `\`${value}\``) {
      fail(`README: --${flag} default is ${literal}, the program's is ${value}`);
    }
    checked++;
  }
  ok(`${checked} options of kernel-mcp --help are in the README's tables`);
}

// 2. package.json entry points exist after the build.
{
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const targets = [];
  if (pkg.main) targets.push(['main', pkg.main]);
  const walk = (v, where) => {
    if (typeof v === 'string') targets.push([where, v]);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${where}.${k}`);
  };
  walk(pkg.exports, 'exports');
  walk(typeof pkg.bin === 'string' ? { [pkg.name]: pkg.bin } : pkg.bin, 'bin');
  for (const [where, file] of targets) {
    if (!existsSync(join(ROOT, file))) fail(`package.json ${where} names ${file}, which the build does not produce`);
  }
  ok(`package.json entry points exist (${targets.map(([w]) => w).join(', ')})`);
}

// 3. Quoted messages are the program's.
{
  const quotes = [...README.matchAll(/`([^`\n]*unknown toolset[^`\n]*)`/g)].map((m) => m[1]);
  if (quotes.length === 0)
    fail('README quotes no unknown-toolset message (the check looks for `...unknown toolset...`)');
  for (const quote of quotes) {
    const bad = /(\w+) \(did you mean/.exec(quote)?.[1];
    if (!bad) {
      fail(`README: cannot tell which toolset the quote names: ${quote}`);
      continue;
    }
    const res = cli(['--simulate', '--toolsets', bad]);
    if (!res.stderr.includes(quote))
      fail(`README quotes "${quote}"; kernel-mcp --toolsets ${bad} says:\n${res.stderr}`);
    else ok(`the unknown-toolset message is the program's`);
  }
}

/** `...` in a quote stands for any text. */
const pattern = (quote) =>
  new RegExp(
    `^${quote
      .split('...')
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.+')}`,
  );

{
  const quotes = [
    ...new Set([...README.matchAll(/`(Kernel API \d{3} [^`]+)`/g)].map((m) => m[1].replace(/\s*\n\s*/g, ' '))),
  ];
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, '--simulate'],
    env: { PATH: process.env.PATH ?? '', KERNEL_MCP_LOG_LEVEL: 'silent' },
    stderr: 'ignore',
  });
  const client = new Client(
    { name: 'check-docs', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  await client.connect(transport);
  try {
    for (const quote of quotes) {
      const m = /\((GET|POST|PUT|PATCH|DELETE) (\/[^)\s]+)\)/.exec(quote);
      let said;
      if (m?.[1] === 'GET' && /^\/browsers\/[^/]+$/.test(m[2])) {
        const r = await client.callTool({ name: 'browsers_retrieve', arguments: { id: m[2].split('/')[2] } });
        said = r.content?.[0]?.text;
      } else if (m?.[1] === 'GET' && /^\/browsers\/[^/]+\/telemetry$/.test(m[2])) {
        said = await client
          .readResource({ uri: `kernel://browsers/${m[2].split('/')[2]}/telemetry` })
          .then(() => 'no error')
          .catch((e) => String(e.message));
      } else {
        fail(`README quotes "${quote}", and scripts/check-docs.mjs has no way to produce it: add one`);
        continue;
      }
      if (!said || !pattern(quote).test(said.replace(/^MCP error -?\d+: /, ''))) {
        fail(`README quotes "${quote}"; the program says "${said}"`);
      } else ok(`"${quote}" is what the program says`);
    }
  } finally {
    await client.close();
  }
}

{
  const quoted = /`GET \/healthz` answers\s+`([^`]+)`/.exec(README)?.[1];
  if (!quoted)
    fail('README no longer quotes what GET /healthz answers (the check looks for "`GET /healthz` answers `...`")');
  else {
    const { spawn } = await import('node:child_process');
    const proc = spawn(
      process.execPath,
      [CLI, '--simulate', '--transport', 'http', '--port', '0', '--shutdown-drain-ms', '0'],
      {
        env: { PATH: process.env.PATH ?? '' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    try {
      const url = await new Promise((resolve, reject) => {
        let err = '';
        const timer = setTimeout(() => reject(new Error(`no listening line:\n${err}`)), 20_000);
        proc.stderr.on('data', (d) => {
          err += d;
          const m = /listening on (http:\/\/\S+)\/mcp/.exec(err);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
      });
      const body = await (await fetch(`${url}/healthz`)).text();
      if (body !== quoted) fail(`README says GET /healthz answers ${quoted}; it answers ${body}`);
      else ok('GET /healthz answers what the README says');
    } finally {
      proc.kill('SIGTERM');
    }
  }
}

// 4. Measured figures: a fresh measurement must print the README's table.
{
  const r = spawnSync('npx', ['tsx', 'scripts/measure.ts', '--check'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) fail(`npm run measure -- --check:\n${r.stdout.slice(-3000)}${r.stderr.slice(-3000)}`);
  else ok('the measured tool-list figures in the README are current');
}

// 5. The benchmark's duration as recorded.
{
  const quoted = /how long the run took \(`seconds`: (\d+)/.exec(README.replace(/\s+/g, ' '))?.[1];
  const results = JSON.parse(readFileSync(join(ROOT, 'bench', 'results.json'), 'utf8'));
  if (quoted !== undefined && Number(quoted) !== Math.round(results.seconds)) {
    fail(`README says the benchmark took ${quoted} s; bench/results.json records ${results.seconds} s`);
  } else if (quoted !== undefined) ok('the benchmark duration is the recorded one');
}

if (problems.length) {
  console.error(`\ncheck:docs found ${problems.length} problem(s):\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log('\nThe README matches the program.');
