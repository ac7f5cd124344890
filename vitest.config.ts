import { defineConfig } from "vitest/config";

// Tests run against real loopback servers; a busy 2-core CI box needs headroom but no retries.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: "forks",
    maxWorkers: 2,
  },
});
