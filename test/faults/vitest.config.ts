import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The fault suite (`npm run test:faults`): it starts its own broker and ClickHouse front
// (private ports and state dirs, provisioned from the stack cache), so it needs no global setup.
export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    name: "faults",
    include: ["test/faults/**/*.test.ts"],
    testTimeout: 900_000,
    hookTimeout: 600_000,
    fileParallelism: false,
  },
});
