import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/helpers/pg-global.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Files share one PostgreSQL server but each uses its own schema, so they may run in parallel.
    fileParallelism: true,
    reporters: ["default"],
  },
});
