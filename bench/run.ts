/**
 * `npm run bench`: builds, then measures kernel-mcp against the reference — a bare SDK v2 server whose tool makes
 * the same upstream GET with undici and answers it the same way (bench/reference-server.mjs) — in one run, the
 * variants of each figure taking turns, and prints each target of issue 15 with its ratio and whether it is met.
 * Everything goes to bench/results.json; a full run also rewrites the README's Performance table between the
 * `<!-- bench:start -->` and `<!-- bench:end -->` markers. Nothing here asserts a time.
 *
 *   npm run bench                      cold, call, large, load (the targets), then context
 *   npm run bench -- --only cold,call  some of: cold, call, large, load, streams, context
 *   npm run bench -- --quick           fewer runs (a smoke test of the benchmarks themselves; README untouched)
 *   npm run bench -- --no-readme       leave the README alone
 *
 * The simulator, the large-answer upstream, kernel-mcp over HTTP and the reference over HTTP each run in their own
 * process on loopback; the load generator (the clients) is this process.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { coldStart, coldStartFigures, coldStartTargets } from './cold-start.js';
import { context, contextFigures } from './context.js';
import { httpLoad, loadFigures, loadTargets, SHAPES } from './http-load.js';
import { type HttpServerChild, startHttpChild } from './http-server.js';
import { largeAnswers, largeFigures, largeTargets } from './large.js';
import { assertBuilt, childEnv, type Figure, killChildren, type Machine, machine, now, ROOT, round } from './lib.js';
import { overhead, overheadFigures, overheadTargets } from './overhead.js';
import { type Child, startReferenceHttp, startSimulatorProcess, startUpstream } from './procs.js';
import { sharedLoad, sharedLoadFigures } from './redis-load.js';
import { sandboxStart } from './sandbox.js';
import { type StreamsResult, streamDelivery, streamFigures, streamMemory } from './streams.js';
import { printTargets, type Target, targetsMarkdown } from './targets.js';

const SECTIONS = ['cold', 'call', 'large', 'load', 'streams', 'context', 'code'] as const;
type Section = (typeof SECTIONS)[number];
const DEFAULT: Section[] = ['cold', 'call', 'large', 'load', 'context'];

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'no-readme': { type: 'boolean', default: false },
  },
});
const only = new Set<Section>(values.only ? (values.only.split(',').map((s) => s.trim()) as Section[]) : DEFAULT);
for (const s of only)
  if (!SECTIONS.includes(s)) throw new Error(`unknown section ${s}; pick from ${SECTIONS.join(', ')}`);
const quick = values.quick ?? false;
const fullRun = !quick && !values.only;

const API_KEY = `sk_bench_${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
const HTTP_TOKEN = `bench-http-token-${Math.random().toString(36).slice(2)}`;
const out = (s: string) => process.stdout.write(s);

function printFigures(figures: Figure[]) {
  let section = '';
  const nameWidth = Math.min(70, Math.max(...figures.map((f) => f.name.length)));
  for (const f of figures) {
    if (f.section !== section) {
      section = f.section;
      out(`\n${section}\n${'-'.repeat(Math.min(section.length, 110))}\n`);
    }
    const value = f.value === null ? '-' : `${f.value}${f.unit ? ` ${f.unit}` : ''}`;
    const target = f.target ? `  [target ${f.target}: ${f.met ? 'met' : 'MISSED'}]` : '';
    const note = f.note ? `  (${f.note})` : '';
    out(`  ${f.name.padEnd(nameWidth)}  ${value}${target}${note}\n`);
  }
}

function figuresMarkdown(figures: Figure[]): string {
  const lines: string[] = [];
  let section = '';
  for (const f of figures) {
    if (f.section !== section) {
      section = f.section;
      const targets = figures.some((g) => g.section === section && g.target);
      lines.push('', `**${section}**`, '', `| Figure | Value |${targets ? ' Target |' : ''}`);
      lines.push(`| --- | --- |${targets ? ' --- |' : ''}`);
    }
    const value = f.value === null ? `— ${f.note ?? ''}` : `${f.value}${f.unit ? ` ${f.unit}` : ''}`;
    const target = f.target ? ` ${f.target}: ${f.met ? 'met' : '**missed**'} |` : '';
    const hasTargets = figures.some((g) => g.section === section && g.target);
    lines.push(
      `| ${f.name.replaceAll('|', '\\|')} | ${value.replaceAll('|', '\\|')} |${hasTargets ? target || '  |' : ''}`,
    );
  }
  return lines.join('\n');
}

function markdown(targets: Target[], figures: Figure[], m: Machine, date: string, loadAtEnd: number, secs: number) {
  return [
    `Measured ${date} with \`npm run bench\` (${secs} s) on ${m.nproc} × ${m.cpu}, Node ${m.node} (${m.platform}); ` +
      `loopback; 1-minute load average ${m.loadAtStart} at the start, ${loadAtEnd} at the end. Ratios are ` +
      'kernel-mcp ÷ the reference server measured in the same run, taking turns.',
    '',
    targetsMarkdown(targets),
    figuresMarkdown(figures),
  ].join('\n');
}

function updateReadme(md: string) {
  const path = join(ROOT, 'README.md');
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  const text = readFileSync(path, 'utf8');
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) {
    out(`README.md has no ${start} ... ${end} markers; not updated.\n`);
    return;
  }
  writeFileSync(path, `${text.slice(0, i + start.length)}\n${md}\n${text.slice(j)}`);
  out('README.md Performance table updated.\n');
}

/** A browser session on the simulator for the calls to retrieve. */
async function createBrowser(simUrl: string): Promise<string> {
  const agent = new Agent();
  try {
    const res = await request(`${simUrl}/browsers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ headless: true, timeout_seconds: 3600 }),
      dispatcher: agent,
    });
    const { session_id } = (await res.body.json()) as { session_id: string };
    return session_id;
  } finally {
    await agent.close();
  }
}

async function main() {
  assertBuilt();
  const started = now();
  const m = await machine();
  const date = new Date().toISOString().slice(0, 10);
  out(`kernel-mcp benchmarks: ${m.nproc} × ${m.cpu}, Node ${m.node}, ${m.platform}; load average ${m.loadAtStart}\n`);
  if (m.loadAtStart > m.nproc / 2) {
    out('  note: the machine is busy: absolute figures are slow; the ratios, measured taking turns, still compare.\n');
  }

  const figures: Figure[] = [];
  const targets: Target[] = [];
  const raw: Record<string, unknown> = {};
  const failed = (section: string, err: unknown) => {
    const message = (err as Error).message ?? String(err);
    process.stderr.write(`\n${section} failed: ${(err as Error).stack ?? message}\n`);
    figures.push({ section, name: 'benchmark', value: null, unit: '', note: `failed: ${message.slice(0, 200)}` });
    raw[section] = { error: message };
  };
  const step = (label: string) => out(`… ${label} (${round((now() - started) / 1000, 0)} s)\n`);
  const attempt = async (name: string, fn: () => Promise<void>) => {
    step(name);
    try {
      await fn();
    } catch (e) {
      failed(name, e);
    }
  };

  const children: { stop(): Promise<void> }[] = [];
  try {
    const sim: Child = await startSimulatorProcess(API_KEY);
    children.push(sim);
    const stdioEnv = childEnv({ KERNEL_API_KEY: API_KEY, KERNEL_BASE_URL: sim.url, KERNEL_MCP_LOG_LEVEL: 'warn' });
    const browserId = await createBrowser(sim.url);

    if (only.has('cold')) {
      await attempt('cold start', async () => {
        const r = await coldStart(sim.url, API_KEY, quick ? 3 : 15);
        raw.coldStart = r;
        targets.push(...coldStartTargets(r));
        figures.push(...coldStartFigures(r));
      });
    }

    let kernelHttp: HttpServerChild | undefined;
    let referenceHttp: (Child & { port: number }) | undefined;
    if (only.has('call') || only.has('load')) {
      kernelHttp = await startHttpChild({ baseUrl: sim.url, apiKey: API_KEY, token: HTTP_TOKEN });
      children.push(kernelHttp);
      referenceHttp = await startReferenceHttp(sim.url, API_KEY);
      children.push(referenceHttp);
    }

    if (only.has('call') && kernelHttp && referenceHttp) {
      const [k, r] = [kernelHttp, referenceHttp];
      await attempt('per-call latency', async () => {
        const res = await overhead({
          simUrl: sim.url,
          apiKey: API_KEY,
          stdioEnv,
          kernelHttp: { url: k.url, token: k.token },
          referenceHttp: { url: r.url },
          browserId,
          calls: quick ? 50 : 300,
          warmup: quick ? 10 : 30,
        });
        raw.perCall = res;
        targets.push(...overheadTargets(res));
        figures.push(...overheadFigures(res));
      });
    }

    if (only.has('large')) {
      await attempt('large answers', async () => {
        const upstream = await startUpstream();
        children.push(upstream);
        try {
          const res = await largeAnswers({ upstreamUrl: upstream.url, apiKey: API_KEY, quick });
          raw.large = res;
          targets.push(...largeTargets(res));
          figures.push(...largeFigures(res));
        } finally {
          await upstream.stop();
        }
      });
    }

    if (only.has('load') && kernelHttp && referenceHttp) {
      const [k, r] = [kernelHttp, referenceHttp];
      await attempt('HTTP load', async () => {
        const res = await httpLoad({
          kernel: { url: k.url, token: k.token, pid: k.child.pid },
          reference: { url: r.url, pid: r.child.pid },
          simUrl: sim.url,
          simPid: sim.child.pid,
          apiKey: API_KEY,
          browserId,
          shapes: quick ? SHAPES.map(([c, n]) => [Math.min(c, 20), Math.min(n, 5)] as [number, number]) : SHAPES,
          progress: (line) => out(`${line}\n`),
        });
        raw.httpLoad = res;
        targets.push(...loadTargets(res));
        figures.push(...loadFigures(res));
      });
    }

    // The 50 × 10 load over two instances sharing Redis (--redis-url), beside one instance.
    if (only.has('load') && kernelHttp) {
      const k = kernelHttp;
      await attempt('HTTP load over two instances with Redis', async () => {
        const res = await sharedLoad({
          simUrl: sim.url,
          apiKey: API_KEY,
          token: k.token,
          browserId,
          single: { url: k.url },
          ...(quick ? { clients: 20, callsPerClient: 5 } : {}),
          progress: (line) => out(`${line}\n`),
        });
        raw.sharedLoad = res;
        figures.push(...sharedLoadFigures(res));
      });
    }

    if (only.has('streams')) {
      await attempt('streams', async () => {
        const r: StreamsResult = { delivery: [] };
        r.delivery = await streamDelivery({
          simUrl: sim.url,
          apiKey: API_KEY,
          stdioEnv,
          lines: quick ? 10_000 : 100_000,
        });
        try {
          r.memory = await streamMemory(quick ? 100_000 : 1_000_000);
        } catch (e) {
          r.memoryError = (e as Error).message;
        }
        raw.streams = { ...r, memory: r.memory ? { ...r.memory, samples: r.memory.samples.length } : undefined };
        figures.push(...streamFigures(r));
      });
    }

    if (only.has('context')) {
      await attempt('context', async () => {
        const r = await context();
        raw.context = r;
        figures.push(...contextFigures(r));
      });
    }

    if (only.has('code')) {
      await attempt('code', async () => {
        const f = await sandboxStart(quick);
        raw.code = f;
        figures.push(...f);
      });
    }
  } finally {
    for (const c of children.reverse()) await c.stop().catch(() => {});
  }

  const seconds = round((now() - started) / 1000, 0);
  const loadAtEnd = round(loadavg()[0] ?? 0, 2);
  printFigures(figures);
  if (targets.length) printTargets(targets, out);
  const missed = targets.filter((t) => !t.met);
  out(
    `\n${targets.length - missed.length} of ${targets.length} targets met; ${seconds} s in all; ` +
      `load average ${m.loadAtStart} at the start, ${loadAtEnd} at the end.\n`,
  );
  const results = {
    date: new Date().toISOString(),
    machine: { ...m, loadAtEnd },
    quick,
    seconds,
    targets,
    figures,
    raw,
  };
  writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  out('Written to bench/results.json\n');
  if (fullRun && !values['no-readme']) updateReadme(markdown(targets, figures, m, date, loadAtEnd, seconds));
}

main()
  .then(() => process.exit(0))
  .catch((err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    killChildren();
    process.exit(1);
  });
