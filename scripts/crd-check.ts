/**
 * CI guard: fails when either copy of the CRD differs from what the zod schema generates,
 * so neither can drift from src/api:
 *   crds/clickpipes.io_clickpipes.yaml                        (kubectl apply, the npm package)
 *   charts/clickpipes-operator/files/clickpipes.io_clickpipes.yaml   (read by the chart's crd.yaml)
 * The chart keeps a real copy, not a link to crds/: `helm` warns on links, and tools that
 * package, push or sync charts treat them differently. With `--write` it rewrites both
 * (same output as `clickpipes crd`, without loading every CLI command).
 */
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { clickPipeCrdYaml } from "../src/api/crd.js";

const copies = ["crds/clickpipes.io_clickpipes.yaml", "charts/clickpipes-operator/files/clickpipes.io_clickpipes.yaml"];
const generated = clickPipeCrdYaml();

async function readOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Error(`crd:check: cannot read ${path}: ${String(error)}`, { cause: error });
  }
}

let stale = 0;
for (const copy of copies) {
  const path = fileURLToPath(new URL(`../${copy}`, import.meta.url));
  if (process.argv.includes("--write")) {
    await writeFile(path, generated);
    console.log(`crd: wrote ${copy}`);
    continue;
  }
  const checkedIn = await readOrUndefined(path);
  if (checkedIn !== generated) {
    console.error(`crd:check: ${copy} is ${checkedIn === undefined ? "missing" : "stale"}; run \`npm run crd:generate\` and commit the result`);
    stale++;
  }
}
if (stale > 0) process.exit(1);
if (!process.argv.includes("--write")) console.log(`crd:check: ${copies.join(" and ")} are up to date`);
