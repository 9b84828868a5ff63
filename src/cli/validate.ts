import { readFile } from "node:fs/promises";
import { Command } from "commander";
import { validateManifestText } from "../api/manifests.js";

/** Problems of every file, in order; a file that cannot be read is itself a problem. */
export async function validateFiles(files: readonly string[]): Promise<string[]> {
  const lines: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      lines.push(`${file}: cannot read file (${error instanceof Error ? error.message : String(error)})`);
      continue;
    }
    lines.push(...validateManifestText(text, file));
  }
  return lines;
}

/** The whole `validate` command without process globals: writes its lines, returns the exit code. */
export async function runValidate(files: readonly string[], write: (line: string) => void): Promise<number> {
  const lines = await validateFiles(files);
  if (lines.length === 0) {
    write(`${files.join(", ")}: valid`);
    return 0;
  }
  for (const line of lines) write(line);
  return 1;
}

/** `clickpipes validate -f FILE...`: exit 0 when every ClickPipe is valid, else one line per problem and exit 1. */
export function validateCommand(): Command {
  return new Command("validate")
    .description("Validate ClickPipe manifests (multi-document YAML) without a cluster")
    .requiredOption("-f, --file <files...>", "manifest files to validate")
    .action(async (options: { file: string[] }) => {
      process.exitCode = await runValidate(options.file, (line) => process.stdout.write(`${line}\n`));
    });
}
