/**
 * Large answers: 64 KiB, 1 MiB and 8 MiB of JSON (`browsers_retrieve`) and of text (`browsers_fs_read_file`) from a
 * fixed upstream in its own process (bench/upstream.mjs), over stdio with a 2026-07-28 client, through kernel-mcp
 * (its result cap raised so nothing is cut) and through the reference server returning the same upstream answer;
 * beside them the same GET sent straight with undici. Paths take turns call by call; cost per MiB shows whether it
 * grows linearly with size.
 */
import { Agent, request } from 'undici';
import { connectStdio, type Session } from './clients.js';
import { childEnv, type Figure, round, type Stats, stats, takeTurns } from './lib.js';
import { REFERENCE } from './procs.js';
import { type Target, target } from './targets.js';

const KiB = 1024;
const MiB = 1024 * KiB;
export const SIZES = [64 * KiB, MiB, 8 * MiB];
const KINDS = ['json', 'text'] as const;
type Kind = (typeof KINDS)[number];

export const sizeName = (bytes: number) => (bytes >= MiB ? `${bytes / MiB} MiB` : `${bytes / KiB} KiB`);

export interface LargeCase {
  kind: Kind;
  bytes: number;
  calls: number;
  undici: Stats;
  kernel: Stats;
  reference: Stats;
}

export interface LargeResult {
  cases: LargeCase[];
}

function toolCall(kind: Kind, bytes: number): [string, Record<string, unknown>] {
  return kind === 'json'
    ? ['browsers_retrieve', { id: `json-${bytes}` }]
    : ['browsers_fs_read_file', { id: 'fixture', path: `/text-${bytes}` }];
}

function upstreamPath(kind: Kind, bytes: number): string {
  return kind === 'json' ? `/browsers/json-${bytes}` : `/browsers/fixture/fs/read_file?path=/text-${bytes}`;
}

export async function largeAnswers(o: { upstreamUrl: string; apiKey: string; quick?: boolean }): Promise<LargeResult> {
  const env = childEnv({ KERNEL_BASE_URL: o.upstreamUrl, KERNEL_API_KEY: o.apiKey, KERNEL_MCP_LOG_LEVEL: 'warn' });
  const agent = new Agent();
  const sessions: Session[] = [];
  const cases: LargeCase[] = [];
  try {
    // The cap (--max-result-tokens, ~4 characters a token) raised over 8 MiB so kernel-mcp answers in full.
    // The client's cap on one message raised too: the SDK's default (10 MiB) is less than 8 MiB of JSON sent twice.
    const maxBufferSize = 64 * MiB;
    const kernel = await connectStdio('modern', { env, maxBufferSize, args: ['--max-result-tokens', '4000000'] });
    sessions.push(kernel);
    const reference = await connectStdio('modern', { env, maxBufferSize, script: REFERENCE });
    sessions.push(reference);
    const viaMcp = (s: Session, kind: Kind, bytes: number) => async () => {
      const [name, args] = toolCall(kind, bytes);
      const r = await s.call(name, args, { timeout: 120_000 });
      if (r.isError) throw new Error(`${name}: ${r.content[0]?.text?.slice(0, 300)}`);
      const c = r.content[0];
      const got = c?.text ?? (c?.resource?.text as string | undefined) ?? '';
      if (got.length < bytes * 0.9) throw new Error(`${name} answered ${got.length} characters for ${bytes} bytes`);
    };
    const direct = (kind: Kind, bytes: number) => async () => {
      const res = await request(`${o.upstreamUrl}${upstreamPath(kind, bytes)}`, {
        headers: { authorization: `Bearer ${o.apiKey}` },
        dispatcher: agent,
      });
      const text = await res.body.text();
      if (kind === 'json') JSON.parse(text);
    };
    for (const bytes of SIZES) {
      // A 64 KiB answer takes a few ms: enough calls that a collection or a scheduling hiccup does not set the median
      // (and five of 8 MiB, not three: with three, one slow call on a busy machine was the median).
      const rounds = o.quick ? 3 : bytes <= 64 * KiB ? 100 : bytes <= MiB ? 15 : 5;
      const warmup = o.quick || bytes > MiB ? 1 : 5;
      for (const kind of KINDS) {
        const paths = [
          { name: 'undici', call: direct(kind, bytes), times: [] as number[] },
          { name: 'reference', call: viaMcp(reference, kind, bytes), times: [] as number[] },
          { name: 'kernel', call: viaMcp(kernel, kind, bytes), times: [] as number[] },
        ];
        // Warm up, not counted: the upstream builds its answer, caches fill, each server compiles this answer's path.
        for (const p of paths) for (let i = 0; i < warmup; i++) await p.call();
        await takeTurns(paths, rounds);
        const by = (n: string) => stats(paths.find((p) => p.name === n)!.times);
        cases.push({
          kind,
          bytes,
          calls: rounds,
          undici: by('undici'),
          kernel: by('kernel'),
          reference: by('reference'),
        });
      }
    }
  } finally {
    for (const s of sessions) await s.close().catch(() => {});
    await agent.close();
  }
  return { cases };
}

export function largeTargets(r: LargeResult): Target[] {
  return r.cases.map((c) =>
    target(`large answer p50, ${sizeName(c.bytes)} ${c.kind}, stdio`, c.kernel.p50, c.reference.p50, 1.2, 'at most', {
      direct: c.undici.p50,
    }),
  );
}

export function largeFigures(r: LargeResult): Figure[] {
  const s = 'Large answers over stdio (2026-07-28 client; p50, and ms per MiB to show growth with size)';
  const perMiB = (x: Stats, bytes: number) => round(x.p50 / (bytes / MiB), 1);
  return r.cases.map((c) => ({
    section: s,
    name: `${sizeName(c.bytes)} ${c.kind} (${c.calls} calls each): kernel-mcp / reference / direct undici`,
    value:
      `${round(c.kernel.p50, 2)} / ${round(c.reference.p50, 2)} / ${round(c.undici.p50, 2)} ms; per MiB ` +
      `${perMiB(c.kernel, c.bytes)} / ${perMiB(c.reference, c.bytes)} / ${perMiB(c.undici, c.bytes)}`,
    unit: '',
  }));
}
