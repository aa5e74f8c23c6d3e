/**
 * The targets of issue 15, each a ratio measured in one run against the reference (a bare SDK v2 server that makes
 * the same upstream call), with whether it was met. Nothing asserts them: they are printed, written to
 * bench/results.json and to the README's Performance table.
 */
import { round } from './lib.js';

export interface Target {
  name: string;
  /** kernel-mcp's figure and the reference's (ms, calls/s, MB, ...). */
  kernel: number;
  reference: number;
  unit: string;
  /** kernel ÷ reference. */
  ratio: number;
  /** The bound on the ratio and its direction. */
  bound: number;
  direction: 'at most' | 'at least';
  met: boolean;
  /** What a direct undici request does on the same path, when it applies (the SDK's own share). */
  direct?: number;
  note?: string;
}

export function target(
  name: string,
  kernel: number,
  reference: number,
  bound: number,
  direction: 'at most' | 'at least',
  extra: { unit?: string; direct?: number; note?: string } = {},
): Target {
  const ratio = reference > 0 ? kernel / reference : Number.NaN;
  const met = Number.isFinite(ratio) && (direction === 'at most' ? ratio <= bound : ratio >= bound);
  return {
    name,
    kernel: round(kernel, 2),
    reference: round(reference, 2),
    unit: extra.unit ?? 'ms',
    ratio: round(ratio, 2),
    bound,
    direction,
    met,
    ...(extra.direct !== undefined ? { direct: round(extra.direct, 2) } : {}),
    ...(extra.note ? { note: extra.note } : {}),
  };
}

const bound = (t: Target) => `${t.direction === 'at most' ? '≤' : '≥'} ${t.bound}×`;

export function printTargets(targets: Target[], write: (s: string) => void) {
  const w = Math.max(...targets.map((t) => t.name.length));
  write('\nTargets (kernel-mcp ÷ reference, same run)\n------------------------------------------\n');
  for (const t of targets) {
    const direct = t.direct !== undefined ? `; direct undici ${t.direct} ${t.unit}` : '';
    const note = t.note ? `; ${t.note}` : '';
    write(
      `  ${t.name.padEnd(w)}  ${String(t.ratio).padStart(5)}×  ${bound(t).padEnd(7)} ${t.met ? 'met   ' : 'MISSED'}` +
        `  (${t.kernel} vs ${t.reference} ${t.unit}${direct}${note})\n`,
    );
  }
}

export function targetsMarkdown(targets: Target[]): string {
  const rows = targets.map((t) => {
    const cells = [
      t.name,
      `${t.ratio}×`,
      bound(t),
      t.met ? 'met' : '**missed**',
      `${t.kernel} / ${t.reference} ${t.unit}`,
      t.direct !== undefined ? `${t.direct} ${t.unit}` : '',
      t.note ?? '',
    ];
    return `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  });
  return [
    '| Target | Ratio | Bound | | kernel-mcp / reference | direct undici | Note |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
