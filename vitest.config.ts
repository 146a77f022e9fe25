import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker per core less one: a single worker on a 2-core CI machine, where most test
    // files wait on child processes (the CLI, the registry) rather than compute. Two halve the suite's wall time.
    maxWorkers: 2,
    globalSetup: ['test/helpers/global-setup.ts'],
  },
});
