/**
 * `npm run measure`: what the tool list costs an agent's context, per mode. For each mode it spawns the BUILT CLI
 * over stdio against the built-in simulator (`--simulate`), lists the tools with a 2026-07-28 client, and reports the
 * number of tools, the size of the `tools` array of the `tools/list` result as JSON (bytes), its tokens (OpenAI's
 * o200k_base encoding, via js-tiktoken) and how many operations the mode reaches (in dynamic mode: the sum of the
 * search tool's toolset overview). Writes bench/measure.json and prints a table; exits 1 when a target is missed.
 *
 * Targets (1 KB = 1000 bytes): default set <= 32 KB, `all` <= 90 KB, `--dynamic` <= 2 KB and `--code-mode`
 * <= 2.5 KB, each with every operation reachable.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { getEncoding } from 'js-tiktoken';
import { DEFAULT_EXCLUDED_TOOLS, DEFAULT_TOOLSETS } from '../src/selection.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const OUT = join(ROOT, 'bench', 'measure.json');
const ENCODING = 'o200k_base';

interface Mode {
  name: string;
  args: string[];
  /** The README's Flags column. */
  label?: string;
  /** The most bytes the tool list may take (undefined: no target). */
  targetBytes?: number;
  /** Operations this mode must reach (dynamic mode: every one). */
  mustReach?: number;
}

/**
 * `--simulate` also serves the proxy-pool service, which adds its toolset to `all`. The `all` target is about the
 * Kernel API's operations, so that mode leaves the three proxy-pool tools out; the next row shows them in.
 */
const PROXY_POOL_TOOLS = 'proxy_pool_sessions_create,proxy_pool_sessions_bulk_create,proxy_pool_sessions_delete';

const MODES: Mode[] = [
  { name: 'default', args: [], label: '—', targetBytes: 32_000 },
  {
    name: 'all',
    args: ['--toolsets', 'all', '--exclude-tools', PROXY_POOL_TOOLS],
    label: '`--toolsets all` (Kernel API)',
    targetBytes: 90_000,
  },
  { name: 'all + proxy_pool_sessions', args: ['--toolsets', 'all'], label: '`--toolsets all` with `--simulate`' },
  { name: 'read-only', args: ['--read-only'], label: '`--read-only`' },
  { name: 'all, read-only', args: ['--toolsets', 'all', '--read-only'], label: '`--toolsets all --read-only`' },
  { name: 'dynamic', args: ['--dynamic'], label: '`--dynamic`', targetBytes: 2_000 },
  {
    name: 'dynamic, deprecated too',
    args: ['--dynamic', '--include-deprecated'],
    label: '`--dynamic --include-deprecated`',
    targetBytes: 2_000,
  },
  { name: 'code mode', args: ['--code-mode'], label: '`--code-mode`', targetBytes: 2_500 },
];

/** The README's figures live between these markers; `npm run measure` rewrites them, `--check` compares. */
const README = join(ROOT, 'README.md');
const START = '<!-- measure:start -->';
const END = '<!-- measure:end -->';
const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;

interface Row {
  mode: string;
  args: string;
  tools: number;
  bytes: number;
  tokens: number;
  /** Operations reachable: listed directly, or through the meta-tools. */
  operations: number;
  /** Tools whose readOnlyHint is not true. */
  writing_tools: number;
  target_bytes: number | null;
  within_target: boolean | null;
}

type Tool = { name: string; annotations?: { readOnlyHint?: boolean } };

/** The tools of the last measured mode, by name (for the figures of single tools). */
let lastTools: Tool[] = [];

async function measure(mode: Mode, encode: (text: string) => number[]): Promise<Row> {
  const env: Record<string, string> = { KERNEL_MCP_LOG_LEVEL: 'warn' };
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'SYSTEMROOT']) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, '--simulate', ...mode.args],
    env,
    stderr: 'ignore',
  });
  const client = new Client(
    { name: 'kernel-mcp-measure', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  await client.connect(transport);
  try {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : undefined);
      tools.push(...(page.tools as Tool[]));
      cursor = page.nextCursor;
    } while (cursor);
    lastTools = tools;
    const json = JSON.stringify(tools);
    let operations = tools.length;
    if (tools.some((t) => t.name === 'kernel_search_operations')) {
      const overview = (await client.callTool({ name: 'kernel_search_operations', arguments: {} })) as {
        structuredContent?: { toolsets?: { operations: number }[] };
      };
      operations = (overview.structuredContent?.toolsets ?? []).reduce((n, t) => n + t.operations, 0);
    }
    const bytes = Buffer.byteLength(json);
    return {
      mode: mode.name,
      args: mode.args.join(' ') || '(none)',
      tools: tools.length,
      bytes,
      tokens: encode(json).length,
      operations,
      writing_tools: tools.filter((t) => t.annotations?.readOnlyHint !== true).length,
      target_bytes: mode.targetBytes ?? null,
      within_target:
        mode.targetBytes === undefined
          ? null
          : bytes <= mode.targetBytes && (mode.mustReach === undefined || operations >= mode.mustReach),
    };
  } finally {
    await client.close();
  }
}

async function main() {
  if (!existsSync(CLI)) {
    console.error(`${CLI} is missing: run \`npm run build\` first (\`npm run measure\` does).`);
    process.exit(2);
  }
  const enc = getEncoding(ENCODING);
  const encode = (text: string) => enc.encode(text);
  // The dynamic modes must reach every operation the matching direct mode lists.
  const rows: Row[] = [];
  for (const mode of MODES) {
    if (mode.name === 'dynamic') mode.mustReach = rows.find((r) => r.mode === 'all')?.tools;
    if (mode.name === 'code mode') mode.mustReach = rows.find((r) => r.mode === 'all + proxy_pool_sessions')?.tools;
    rows.push(await measure(mode, encode));
  }
  const all = await measure({ name: 'every operation', args: ['--toolsets', 'all', '--include-deprecated'] }, encode);
  // The default set is its toolsets minus the tools it leaves out: what those cost, and the largest alone.
  const whole = await measure(
    { name: 'default toolsets, whole', args: ['--toolsets', DEFAULT_TOOLSETS.join(',')] },
    encode,
  );
  const largest = lastTools
    .filter((t) => DEFAULT_EXCLUDED_TOOLS.includes(t.name))
    .map((t) => ({ name: t.name, bytes: Buffer.byteLength(JSON.stringify(t)) }))
    .sort((a, b) => b.bytes - a.bytes)[0];
  const def = rows.find((r) => r.mode === 'default')!;
  const leftOut = { tools: whole.tools - def.tools, bytes: whole.bytes - def.bytes };
  const deprecatedToo = rows.find((r) => r.mode === 'dynamic, deprecated too');
  if (deprecatedToo) {
    deprecatedToo.within_target =
      deprecatedToo.bytes <= (deprecatedToo.target_bytes ?? 0) && deprecatedToo.operations >= all.tools;
  }

  const header = ['mode', 'flags', 'tools', 'bytes', `tokens (${ENCODING})`, 'operations reachable', 'target'];
  const lines = rows.map((r) => [
    r.mode,
    r.args,
    String(r.tools),
    r.bytes.toLocaleString('en-US'),
    r.tokens.toLocaleString('en-US'),
    String(r.operations),
    r.target_bytes === null ? '' : `<= ${r.target_bytes / 1000} KB: ${r.within_target ? 'met' : 'MISSED'}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(fmt(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const l of lines) console.log(fmt(l));
  console.log(
    `\nBytes: the \`tools\` array of a real stdio tools/list (--simulate), as JSON. Tokens: js-tiktoken ${ENCODING}.` +
      `\nEvery operation (--toolsets all --include-deprecated): ${all.tools} tools, ${all.bytes.toLocaleString('en-US')} bytes.`,
  );

  const block = readmeBlock(rows, whole, leftOut, largest);
  const readme = readFileSync(README, 'utf8');
  const i = readme.indexOf(START);
  const j = readme.indexOf(END);
  if (i < 0 || j < i) {
    console.error(`README.md has no ${START} ... ${END} markers`);
    process.exit(1);
  }
  const current = readme.slice(i + START.length, j).trim();
  if (process.argv.includes('--check')) {
    if (current !== block.trim()) {
      console.error(
        `README.md's measured figures are stale: run \`npm run measure\` and commit README.md.\n` +
          `In README.md:\n${current}\n\nMeasured now:\n${block}`,
      );
      process.exit(1);
    }
    console.log('README.md figures match the measurement.');
    return;
  }
  if (current !== block.trim()) {
    writeFileSync(README, `${readme.slice(0, i + START.length)}\n${block}\n${readme.slice(j)}`);
    console.log('Updated the figures in README.md.');
  }

  mkdirSync(dirname(OUT), { recursive: true });
  const data = {
    tokenizer: `js-tiktoken ${ENCODING}`,
    bytes_of: 'the tools array of a stdio tools/list result, as JSON (--simulate)',
    kb: 1000,
    modes: Object.fromEntries(
      rows.map((r) => [
        r.mode,
        {
          args: r.args,
          tools: r.tools,
          bytes: r.bytes,
          tokens: r.tokens,
          operations: r.operations,
          writing_tools: r.writing_tools,
          target_bytes: r.target_bytes,
          within_target: r.within_target,
        },
      ]),
    ),
    every_operation: { tools: all.tools, bytes: all.bytes, tokens: all.tokens },
  };
  writeFileSync(OUT, `${JSON.stringify(data, null, 2)}\n`);
  console.log(`Wrote ${OUT.slice(ROOT.length + 1)}.`);
  const missed = rows.filter((r) => r.within_target === false);
  if (missed.length) {
    console.error(
      `Targets missed: ${missed.map((r) => `${r.mode} (${r.bytes} > ${r.target_bytes} bytes)`).join(', ')}`,
    );
    process.exit(1);
  }
}

/** The README's table of modes, and the figures of what the default set leaves out. */
function readmeBlock(
  rows: Row[],
  whole: Row,
  leftOut: { tools: number; bytes: number },
  largest: { name: string; bytes: number } | undefined,
): string {
  const n = (v: number) => v.toLocaleString('en-US');
  const lines = [
    '| Mode | Flags | Tools | Bytes | Tokens | Operations reachable | Target |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- |',
    ...rows.map((r) => {
      const label = MODES.find((m) => m.name === r.mode)?.label ?? r.args;
      const target =
        r.target_bytes === null
          ? ''
          : `≤ ${r.target_bytes / 1000} KB: ${r.within_target ? 'met' : `**missed** by ${kb(r.bytes - r.target_bytes)}`}`;
      return `| ${r.mode} | ${label} | ${r.tools} | ${n(r.bytes)} | ${n(r.tokens)} | ${r.operations} | ${target} |`;
    }),
    '',
    `The default toolsets whole are ${whole.tools} tools (${kb(whole.bytes)}); the default set leaves out ` +
      `${leftOut.tools} of them, which together cost ${kb(leftOut.bytes)}` +
      (largest ? ` (\`${largest.name}\` alone ${kb(largest.bytes)}).` : '.'),
  ];
  return lines.join('\n');
}

await main();
