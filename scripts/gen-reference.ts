/** Writes docs/reference.md from the zod schema (src/api); a unit test fails when it is stale. */
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { referenceMarkdown } from "../src/api/reference.js";

const target = fileURLToPath(new URL("../docs/reference.md", import.meta.url));
await writeFile(target, referenceMarkdown());
console.log(`wrote ${target}`);
