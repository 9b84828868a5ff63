// Runs before `npm test` and `npm run demo` so both work on a fresh clone: installs the
// dependencies when node_modules is missing or older than the lock file. Plain JavaScript
// because tsx itself is one of the dependencies. `npm ci`, exactly what the lock file holds
// (the image builds the same way); the test stack's ClickHouse engine (chdb) is not a
// project dependency: the stack installs it into its cache (test/stack/chdb-install.ts).
import { execSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";

const marker = "node_modules/.package-lock.json";
const stale = !existsSync("node_modules/.bin/tsx") || !existsSync(marker) || statSync(marker).mtimeMs < statSync("package-lock.json").mtimeMs;
if (stale) {
  process.stderr.write("installing dependencies (npm ci)...\n");
  execSync("npm ci --no-fund --no-audit", { stdio: "inherit" });
}
