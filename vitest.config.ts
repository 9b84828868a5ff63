import { defineConfig } from "vitest/config";

// Two projects: "unit" needs nothing running; "integration" (test/integration, test/e2e)
// shares one local stack brought up once per run by the global setup. They run one after
// the other (groupOrder) so unit tests do not compete with the stack for the 2 cores.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          sequence: { groupOrder: 0 },
          include: ["src/**/*.test.ts", "test/unit/**/*.test.ts", "test/stack/**/*.test.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "integration",
          sequence: { groupOrder: 1 },
          include: ["test/integration/**/*.test.ts", "test/e2e/**/*.test.ts"],
          globalSetup: ["test/stack/global-setup.ts"],
          testTimeout: 300_000,
          hookTimeout: 600_000,
          fileParallelism: true,
          maxWorkers: 2,
        },
      },
    ],
  },
});
