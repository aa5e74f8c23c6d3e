/**
 * Code mode's sandbox: how long starting one takes per kernel_execute call (a fresh WebAssembly instance with its own
 * bounded memory, a QuickJS runtime and context, the prelude that builds `kernel` over every operation, the agent's
 * code and teardown), measured in process around `return 1` with no operation. Target: p50 <= 15 ms.
 */

import { codeOperations } from '../src/code/execute.js';
import { runSandbox, warmSandbox } from '../src/code/sandbox.js';
import { makeConfig } from '../src/config.js';
import { selectTools } from '../src/selection.js';
import { type Figure, now, round, stats } from './lib.js';

export async function sandboxStart(quick: boolean): Promise<Figure[]> {
  const enabled = selectTools({ ...makeConfig(), codeMode: true }).enabled;
  const operations = [...codeOperations(enabled).keys()];
  const limits = { timeoutMs: 10_000, memoryBytes: 64 << 20, maxOperations: 10, maxConsoleChars: 1000, maxSleepMs: 0 };
  await warmSandbox();
  const call = async () => ({ json: null });
  const times: number[] = [];
  const runs = quick ? 20 : 200;
  for (let i = 0; i < runs + 5; i++) {
    const t0 = now();
    const r = await runSandbox('return 1;', { operations, call, limits, signal: new AbortController().signal });
    if (i >= 5) times.push(now() - t0);
    if (!r.ok) throw new Error(`sandbox run failed: ${r.error?.message}`);
  }
  const s = stats(times);
  return [
    {
      section: 'code mode',
      name: `sandbox start per kernel_execute call (${operations.length} operations), p50`,
      value: round(s.p50, 2),
      unit: 'ms',
      target: '<= 15 ms',
      met: s.p50 <= 15,
      note: `p95 ${round(s.p95, 2)} ms over ${s.n} runs`,
    },
  ];
}
