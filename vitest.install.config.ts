import { defineConfig } from 'vitest/config';

/** `npm run test:install`: the install paths on a fresh copy (npm installs, builds, packs; minutes), run by CI. */
export default defineConfig({
  test: {
    include: ['test/install/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 600_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
