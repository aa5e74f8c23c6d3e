/**
 * Context figures: what `npm run measure` (scripts/measure.ts -> bench/measure.json) reports about the tokens the
 * tool list costs an agent. The bench runs the script when it exists (it is cheap), else reads a previous
 * bench/measure.json, else says the figures are not available yet.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Figure, ROOT, track } from './lib.js';

const SCRIPT = join(ROOT, 'scripts', 'measure.ts');
const OUTPUT = join(ROOT, 'bench', 'measure.json');

export interface ContextResult {
  source: 'ran scripts/measure.ts' | 'read bench/measure.json' | 'unavailable';
  note?: string;
  data?: unknown;
}

function runMeasure(timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const tsx = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const child = track(spawn(process.execPath, [tsx, SCRIPT], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] }));
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(`scripts/measure.ts took over ${timeoutMs / 1000} s`);
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? undefined : `scripts/measure.ts exited with ${code}: ${err.trim().slice(0, 200)}`);
    });
  });
}

export async function context(): Promise<ContextResult> {
  let note: string | undefined;
  let ran = false;
  if (existsSync(SCRIPT)) {
    note = await runMeasure(90_000);
    ran = note === undefined;
  }
  if (!existsSync(OUTPUT)) {
    return { source: 'unavailable', note: note ?? 'npm run measure (scripts/measure.ts) does not exist yet' };
  }
  try {
    const data = JSON.parse(readFileSync(OUTPUT, 'utf8')) as unknown;
    return { source: ran ? 'ran scripts/measure.ts' : 'read bench/measure.json', ...(note ? { note } : {}), data };
  } catch (e) {
    return { source: 'unavailable', note: `bench/measure.json is not JSON: ${(e as Error).message}` };
  }
}

interface Mode {
  args?: string;
  tools?: number;
  bytes?: number;
  tokens?: number;
  target_bytes?: number | null;
  within_target?: boolean | null;
}

/** The measure output as figures: one line per mode (tools, bytes, tokens), or every number when the shape differs. */
export function contextFigures(r: ContextResult): Figure[] {
  const section = `Context: the tools/list an agent loads (npm run measure; ${r.source})`;
  if (r.data === undefined) return [{ section, name: 'context figures', value: null, unit: '', note: r.note ?? '' }];
  const data = r.data as { modes?: Record<string, Mode>; every_operation?: Mode; tokenizer?: string };
  const out: Figure[] = [];
  if (data.modes && typeof data.modes === 'object') {
    const modes: [string, Mode][] = Object.entries(data.modes);
    if (data.every_operation) modes.push(['every operation', data.every_operation]);
    for (const [name, m] of modes) {
      out.push({
        section,
        name: `${name}${m.args && m.args !== '(none)' ? ` (${m.args.length > 40 ? `${m.args.slice(0, 40)}…` : m.args})` : ''}`,
        value: `${m.tools} tools, ${m.bytes} bytes, ${m.tokens} tokens`,
        unit: '',
        ...(typeof m.target_bytes === 'number'
          ? { target: `≤ ${m.target_bytes} bytes`, met: m.within_target ?? (m.bytes ?? Infinity) <= m.target_bytes }
          : {}),
      });
    }
    if (data.tokenizer) out.push({ section, name: 'tokenizer', value: data.tokenizer, unit: '' });
  } else {
    const walk = (v: unknown, path: string) => {
      if (out.length >= 40) return;
      if (typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && v.length <= 60)) {
        out.push({ section, name: path, value: typeof v === 'boolean' ? String(v) : v, unit: '' });
      } else if (Array.isArray(v)) {
        if (v.length <= 10) {
          for (const [i, x] of v.entries()) walk(x, `${path}[${i}]`);
        } else out.push({ section, name: `${path} (entries)`, value: v.length, unit: '' });
      } else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
      }
    };
    walk(r.data, '');
  }
  if (r.note) out.push({ section, name: 'note', value: null, unit: '', note: r.note });
  return out;
}
