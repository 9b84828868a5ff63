/**
 * `npm run bench -- <name>` runs bench/<name>.ts; each benchmark prints progress on stderr
 * and its figures as one JSON object on the last line of stdout.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const name = process.argv[2];
const here = dirname(fileURLToPath(import.meta.url));
if (name === undefined || !/^[a-z0-9-]+$/.test(name) || !existsSync(join(here, `${name}.ts`))) {
  process.stderr.write(`usage: npm run bench -- <name>   (bench/<name>.ts; got ${JSON.stringify(name)})\n`);
  process.exit(2);
}
const bench = (await import(`./${name}.ts`)) as { main(args: string[]): Promise<Record<string, unknown>> };
const result = await bench.main(process.argv.slice(3));
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
