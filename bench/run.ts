/**
 * `npm run bench`: builds, then measures kernel-mcp and prints every figure as a table, writing them (and the raw
 * numbers) to bench/results.json. Nothing here asserts a time: targets are reported as met or missed.
 *
 *   npm run bench                      every benchmark
 *   npm run bench -- --only cold,call  some of: cold, call, load, streams, context
 *   npm run bench -- --quick           fewer runs (a smoke test of the benchmarks themselves)
 *   npm run bench -- --readme          also rewrite the figures in the README's Performance section
 *
 * Everything runs on loopback against the built-in simulator, started here once.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { type Simulator, startSimulator } from '../simulator/index.js';
import { coldStart, coldStartFigures } from './cold-start.js';
import { context, contextFigures } from './context.js';
import { httpLoad, httpLoadFigures, type LoadResult } from './http-load.js';
import { type HttpServerChild, tryHttp } from './http-server.js';
import {
  assertBuilt,
  childEnv,
  type Figure,
  killChildren,
  type Machine,
  machine,
  now,
  ROOT,
  round,
  sleep,
} from './lib.js';
import { overhead, overheadFigures } from './overhead.js';
import { type StreamsResult, streamDelivery, streamFigures, streamMemory } from './streams.js';

const SECTIONS = ['cold', 'call', 'load', 'streams', 'context'] as const;
type Section = (typeof SECTIONS)[number];

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    readme: { type: 'boolean', default: false },
  },
});
const only = new Set<Section>(values.only ? (values.only.split(',').map((s) => s.trim()) as Section[]) : [...SECTIONS]);
for (const s of only)
  if (!SECTIONS.includes(s)) throw new Error(`unknown section ${s}; pick from ${SECTIONS.join(', ')}`);
const quick = values.quick ?? false;

const API_KEY = `sk_bench_${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
const HTTP_TOKEN = `bench-http-token-${Math.random().toString(36).slice(2)}`;

function printTable(figures: Figure[]) {
  let section = '';
  const nameWidth = Math.min(70, Math.max(...figures.map((f) => f.name.length)));
  for (const f of figures) {
    if (f.section !== section) {
      section = f.section;
      process.stdout.write(`\n${section}\n${'-'.repeat(section.length)}\n`);
    }
    const value = f.value === null ? '-' : `${f.value}${f.unit ? ` ${f.unit}` : ''}`;
    const target = f.target ? `  [target ${f.target}: ${f.met ? 'met' : 'MISSED'}]` : '';
    const note = f.note ? `  (${f.note})` : '';
    process.stdout.write(`  ${f.name.padEnd(nameWidth)}  ${value}${target}${note}\n`);
  }
}

function markdown(figures: Figure[], m: Machine, date: string, loadAtEnd: number): string {
  const lines = [
    `Measured ${date} with \`npm run bench\` on ${m.nproc} × ${m.cpu}, Node ${m.node} (${m.platform}); loopback, built-in simulator; 1-minute load average ${m.loadAtStart} at the start, ${loadAtEnd} at the end.`,
    '',
  ];
  let section = '';
  for (const f of figures) {
    if (f.section !== section) {
      section = f.section;
      lines.push('', `**${section}**`, '', '| Figure | Value | Target |', '| --- | --- | --- |');
    }
    const value = f.value === null ? `— ${f.note ?? ''}` : `${f.value}${f.unit ? ` ${f.unit}` : ''}`;
    const target = f.target ? `${f.target}: ${f.met ? 'met' : '**missed**'}` : '';
    lines.push(`| ${f.name.replaceAll('|', '\\|')} | ${value.replaceAll('|', '\\|')} | ${target} |`);
  }
  return lines.join('\n').replace(/\n{3,}/g, '\n\n');
}

function updateReadme(md: string) {
  const path = join(ROOT, 'README.md');
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  const text = readFileSync(path, 'utf8');
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) {
    process.stdout.write(`README.md has no ${start} ... ${end} markers; not updated.\n`);
    return;
  }
  writeFileSync(path, `${text.slice(0, i + start.length)}\n${md}\n${text.slice(j)}`);
  process.stdout.write('README.md Performance figures updated.\n');
}

async function main() {
  assertBuilt();
  const started = now();
  const m = await machine();
  const date = new Date().toISOString().slice(0, 10);
  process.stdout.write(
    `kernel-mcp benchmarks: ${m.nproc} × ${m.cpu}, Node ${m.node}, ${m.platform}; load average ${m.loadAtStart}\n`,
  );
  if (m.loadAtStart > m.nproc / 2) {
    process.stdout.write('  note: the machine is busy; every figure below is slower than on a quiet machine.\n');
  }

  const sim: Simulator = await startSimulator({ apiKey: API_KEY, enforceBrowserTimeouts: false });
  const stdioEnv = childEnv({ KERNEL_API_KEY: API_KEY, KERNEL_BASE_URL: sim.url, KERNEL_MCP_LOG_LEVEL: 'warn' });
  const figures: Figure[] = [];
  const raw: Record<string, unknown> = {};
  const failed = (section: string, err: unknown) => {
    const message = (err as Error).message ?? String(err);
    process.stderr.write(`\n${section} failed: ${(err as Error).stack ?? message}\n`);
    figures.push({ section, name: 'benchmark', value: null, unit: '', note: `failed: ${message.slice(0, 200)}` });
    raw[section] = { error: message };
  };
  const step = (label: string) => process.stdout.write(`… ${label}\n`);

  let http: HttpServerChild | { skip: string } | undefined;
  try {
    if (only.has('cold')) {
      step('cold start');
      try {
        const r = await coldStart(sim.url, API_KEY, quick ? 5 : 20);
        raw.coldStart = r;
        figures.push(...coldStartFigures(r));
      } catch (e) {
        failed('Cold start', e);
      }
    }

    if (only.has('call') || only.has('load')) {
      step('starting the HTTP transport');
      http = await tryHttp({ baseUrl: sim.url, apiKey: API_KEY, token: HTTP_TOKEN });
      if ('skip' in http) process.stdout.write(`  HTTP benchmarks skipped: ${http.skip}\n`);
    }

    if (only.has('call')) {
      step('per-call overhead');
      try {
        const r = await overhead({
          simUrl: sim.url,
          apiKey: API_KEY,
          stdioEnv,
          http: http && 'url' in http ? { url: http.url, token: http.token } : { skip: http?.skip ?? 'not started' },
          calls: quick ? 200 : 2000,
          warmup: quick ? 20 : 200,
        });
        raw.overhead = r;
        figures.push(...overheadFigures(r));
      } catch (e) {
        failed('Per-call latency', e);
      }
    }

    if (only.has('load')) {
      step('HTTP load');
      if (http && 'url' in http) {
        try {
          const agent = new Agent();
          const created = await request(`${sim.url}/browsers`, {
            method: 'POST',
            headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
            body: JSON.stringify({ headless: true }),
            dispatcher: agent,
          });
          const { session_id } = (await created.body.json()) as { session_id: string };
          await agent.close();
          const r: LoadResult = await httpLoad({
            server: http,
            browserId: session_id,
            clients: 50,
            callsPerClient: quick ? 20 : 200,
            sim,
          });
          // The server exits: every upstream connection it held must close with it.
          await http.stop();
          const deadline = Date.now() + 5000;
          while (sim.openConnections() > 0 && Date.now() < deadline) await sleep(50);
          r.leaks.simulatorConnectionsAfterExit = sim.openConnections();
          http = undefined;
          raw.httpLoad = r;
          figures.push(...httpLoadFigures(r));
        } catch (e) {
          failed('HTTP load', e);
        }
      } else {
        const why = http?.skip ?? 'not started';
        figures.push({
          section: 'HTTP load',
          name: '50 clients x 200 calls',
          value: null,
          unit: '',
          note: `skipped: ${why}`,
        });
        raw.httpLoad = { skipped: why };
      }
    }

    if (only.has('streams')) {
      step('streams');
      const r: StreamsResult = { delivery: [] };
      try {
        r.delivery = await streamDelivery({
          simUrl: sim.url,
          apiKey: API_KEY,
          stdioEnv,
          lines: quick ? 10_000 : 100_000,
        });
      } catch (e) {
        failed('Streams: delivery', e);
      }
      try {
        r.memory = await streamMemory(quick ? 100_000 : 1_000_000);
      } catch (e) {
        r.memoryError = (e as Error).message;
      }
      raw.streams = { ...r, memory: r.memory ? { ...r.memory, samples: r.memory.samples.length } : undefined };
      figures.push(...streamFigures(r));
    }

    if (only.has('context')) {
      step('context');
      try {
        const r = await context();
        raw.context = r;
        figures.push(...contextFigures(r));
      } catch (e) {
        failed('Context', e);
      }
    }
  } finally {
    if (http && 'stop' in http) await http.stop();
    await sim.close();
  }

  const seconds = round((now() - started) / 1000, 1);
  const loadAtEnd = round(loadavg()[0] ?? 0, 2);
  printTable(figures);
  const missed = figures.filter((f) => f.target && !f.met);
  process.stdout.write(
    `\n${figures.filter((f) => f.target).length - missed.length} targets met, ${missed.length} missed; ${seconds} s in all; ` +
      `load average ${m.loadAtStart} at the start, ${loadAtEnd} at the end.\n`,
  );
  const results = { date: new Date().toISOString(), machine: { ...m, loadAtEnd }, quick, seconds, figures, raw };
  writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write('Written to bench/results.json\n');
  if (values.readme) updateReadme(markdown(figures, m, date, loadAtEnd));
}

main()
  .then(() => process.exit(0))
  .catch((err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    killChildren();
    process.exit(1);
  });
