import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.{ts,tsx}', 'test/**/*.test.{ts,tsx}'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Starts a local Kafka broker (npm run kafka:start) when none answers, so `npm test` needs no extra step.
    globalSetup: ['test/kafka-global-setup.ts'],
  },
});
