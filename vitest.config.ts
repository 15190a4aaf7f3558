import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Two cores: at most two test files at a time.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    // Tests run the generator from src/: a whole-run cache keyed on the build would be stale.
    env: { CODEGEN_CACHE: '0' },
  },
});
