/**
 * The chDB engine behind the stack's ClickHouse front, installed into the stack cache
 * (`<cache>/chdb-<version>/node_modules/chdb`) instead of the product's dependencies.
 * Why: chdb lists optional `@chdb/lib-<platform>` packages that the registry does not serve
 * for every platform, so a lock file holding it can never satisfy `npm ci`, and the
 * product image must build with `npm ci`. Here `npm install` picks the one platform
 * package this machine needs, like the stack's Kafka download or Kubernetes build.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const CHDB_VERSION = "3.4.0";

/** The directory whose node_modules holds chdb (the cache's `chdb-<version>/`). */
export function chdbHome(cacheDir: string): string {
  return join(cacheDir, `chdb-${CHDB_VERSION}`);
}

/** True when chdb and its platform library are installed in the cache. */
export function chdbInstalled(cacheDir: string): boolean {
  return existsSync(join(chdbHome(cacheDir), ".installed"));
}

/**
 * Installs chdb into the cache unless it is there. Installs into a temporary sibling and
 * renames it into place, so an interrupted or concurrent install never leaves a half tree
 * that looks finished.
 */
export function ensureChdb(cacheDir: string, log: (message: string) => void): void {
  if (chdbInstalled(cacheDir)) return;
  const home = chdbHome(cacheDir);
  const tmp = `${home}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, "package.json"), JSON.stringify({ private: true, dependencies: { chdb: CHDB_VERSION } }, null, 2) + "\n");
  log(`clickhouse: installing chdb@${CHDB_VERSION} into ${home} (npm install, about 150 MB on first run)`);
  const t0 = Date.now();
  try {
    execFileSync("npm", ["install", "--prefix", tmp, "--no-fund", "--no-audit", "--no-save", "--loglevel=error"], { stdio: ["ignore", "inherit", "inherit"] });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`clickhouse: npm install chdb@${CHDB_VERSION} into ${tmp} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  writeFileSync(join(tmp, ".installed"), `${CHDB_VERSION}\n`);
  if (chdbInstalled(cacheDir)) {
    // Another process finished first; its tree is as good as ours.
    rmSync(tmp, { recursive: true, force: true });
  } else {
    rmSync(home, { recursive: true, force: true });
    renameSync(tmp, home);
  }
  log(`clickhouse: chdb@${CHDB_VERSION} installed in ${Math.round((Date.now() - t0) / 1000)}s`);
}

/** The chdb package directory in the cache; throws saying how to install it when absent. */
export function chdbPackageDir(cacheDir: string): string {
  const dir = join(chdbHome(cacheDir), "node_modules", "chdb");
  if (!chdbInstalled(cacheDir) || !existsSync(join(dir, "package.json"))) {
    throw new Error(`chdb is not installed in ${chdbHome(cacheDir)}; run \`npm run stack -- up --only clickhouse\` (it installs the engine there)`);
  }
  const version = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version?: string }).version;
  if (version !== CHDB_VERSION) throw new Error(`${dir} holds chdb ${String(version)}, expected ${CHDB_VERSION}; delete ${chdbHome(cacheDir)} and run the stack again`);
  return dir;
}
