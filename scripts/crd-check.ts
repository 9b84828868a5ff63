/**
 * CI guard: fails when crds/clickpipes.io_clickpipes.yaml differs from what the zod schema
 * generates, so the checked-in CRD can never drift from src/api. With `--write` it rewrites
 * the file instead (same output as `clickpipes crd`, without loading every CLI command).
 */
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { clickPipeCrdYaml } from "../src/api/crd.js";

const crdPath = fileURLToPath(new URL("../crds/clickpipes.io_clickpipes.yaml", import.meta.url));
const generated = clickPipeCrdYaml();

if (process.argv.includes("--write")) {
  await writeFile(crdPath, generated);
  console.log(`crd: wrote ${crdPath}`);
} else {
  let checkedIn: string;
  try {
    checkedIn = await readFile(crdPath, "utf8");
  } catch (error) {
    console.error(`crd:check: cannot read ${crdPath} (${String(error)}); run \`npm run crd:generate\``);
    process.exit(1);
  }
  if (checkedIn !== generated) {
    console.error(`crd:check: ${crdPath} is stale; run \`npm run crd:generate\` and commit the result`);
    process.exit(1);
  }
  console.log("crd:check: crds/clickpipes.io_clickpipes.yaml is up to date");
}
