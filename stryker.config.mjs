/**
 * `npm run mutate`: StrykerJS mutation testing of the modules where a bug costs most (issue 21). Slow on two shared
 * cores, so it runs incrementally (only mutants in changed code are re-tested; reports/stryker-incremental.json keeps
 * the previous results) with one test runner, and on a schedule rather than in every CI run (README, "Mutation
 * testing"). `npm run mutate -- --mutate src/redact.ts` runs one module.
 */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.mutate.config.ts' },
  mutate: [
    'src/kernel/client.ts',
    'src/redact.ts',
    'src/tools/operations.ts',
    'src/tools/results.ts',
    'src/http/auth.ts',
    'src/http/guards.ts',
    'src/resources/hub.ts',
    'src/tools/dynamic.ts',
    'src/proxy-pool/tools.ts',
  ],
  // The project compiles with TypeScript 7's native compiler, which has no JS API for Stryker's tsconfig rewriting;
  // vitest transpiles the sandbox's sources itself, so there is nothing to rewrite (no such file: the step is skipped).
  tsconfigFile: 'tsconfig.stryker-skip.json',
  coverageAnalysis: 'perTest',
  ignoreStatic: true,
  concurrency: 1,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 80, break: 80 },
  timeoutMS: 20_000,
  // The first run of the in-process tests under coverage instrumentation, on a busy machine.
  dryRunTimeoutMinutes: 20,
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
