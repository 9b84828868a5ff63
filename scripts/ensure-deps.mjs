// Runs before `npm test` and `npm run demo` so both work on a fresh clone: installs the
// dependencies when node_modules is missing or older than the lock file. Plain JavaScript
// because tsx itself is one of the dependencies. `npm install`, not `npm ci`: chdb lists
// optional platform packages (darwin, arm64) that the registry does not serve, and
// `npm ci` refuses a lock file without them.
import { execSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";

const marker = "node_modules/.package-lock.json";
const stale = !existsSync("node_modules/.bin/tsx") || !existsSync(marker) || statSync(marker).mtimeMs < statSync("package-lock.json").mtimeMs;
if (stale) {
  process.stderr.write("installing dependencies (npm install)...\n");
  execSync("npm install --no-fund --no-audit", { stdio: "inherit" });
}
