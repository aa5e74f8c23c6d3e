/**
 * The tests `npm run mutate` runs against each mutant: the ones that exercise the mutated modules in process (a
 * mutant lives in the test worker's copy of src/; spawned CLI processes run the unmutated build, so they cannot kill
 * one). StrykerJS then runs, per mutant, only the tests that cover it. `--testFiles test/x.test.ts` narrows a run of
 * one module to the tests written for it.
 *
 * The list replaces the base config's `include` (vite's mergeConfig would append it to `test/**` and run every test,
 * spawned ones included); the base's child-coverage setup file is left out for the same reason.
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      'test/client.test.ts',
      'test/client-wire.test.ts',
      'test/redact.test.ts',
      'test/redact-forms.test.ts',
      'test/redact-edges.test.ts',
      'test/results.test.ts',
      'test/results-edges.test.ts',
      'test/operations-wire.test.ts',
      'test/selection-budget.test.ts',
      'test/dynamic.test.ts',
      'test/dynamic-search.test.ts',
      'test/search-phrasings.test.ts',
      'test/hub.test.ts',
      'test/hub-subscriptions.test.ts',
      'test/http-units.test.ts',
      'test/http-guards.test.ts',
      'test/http-loopback.test.ts',
      'test/proxy-pool-client.test.ts',
      'test/proxy-pool-errors.test.ts',
      'test/proxy-pool-schemas.test.ts',
      'test/proxy-pool-tools.test.ts',
      'test/streams-uris.test.ts',
      'test/mutation/**/*.test.ts',
    ],
    setupFiles: [],
  },
});
