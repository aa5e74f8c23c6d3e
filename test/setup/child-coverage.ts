/**
 * Whole-program coverage (`npm run coverage`): when KERNEL_MCP_CHILD_COVERAGE names a folder, every process a test
 * spawns (the built CLI over stdio or HTTP, the simulator) gets `NODE_V8_COVERAGE` pointing there, even where the
 * test passes a minimal environment on purpose. Node writes each child's V8 coverage when it exits;
 * scripts/coverage.mjs maps it back to src/ through the build's source maps and merges it with the test workers' own.
 * Without the variable this does nothing.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';

const dir = process.env.KERNEL_MCP_CHILD_COVERAGE;
if (dir) {
  const require = createRequire(import.meta.url);
  const cp = require('node:child_process') as Record<string, (...args: unknown[]) => unknown>;
  const withCoverage = (options: unknown): unknown => {
    if (!options || typeof options !== 'object') return { env: { ...process.env, NODE_V8_COVERAGE: dir } };
    const o = options as { env?: Record<string, string | undefined> };
    return { ...o, env: { ...(o.env ?? process.env), NODE_V8_COVERAGE: dir } };
  };
  // (command, args?, options?) for spawn/spawnSync/execFile/execFileSync; (module, args?, options?) for fork.
  for (const name of ['spawn', 'spawnSync', 'execFile', 'execFileSync', 'fork']) {
    const original = cp[name]!;
    if ((original as { __childCoverage?: boolean }).__childCoverage) continue;
    const wrapped = (first: unknown, ...rest: unknown[]) => {
      if (Array.isArray(rest[0])) rest[1] = withCoverage(rest[1]);
      else if (typeof rest[0] !== 'function') rest[0] = withCoverage(rest[0]);
      return original.call(cp, first, ...rest);
    };
    (wrapped as { __childCoverage?: boolean }).__childCoverage = true;
    cp[name] = wrapped;
  }
  syncBuiltinESMExports();
}
