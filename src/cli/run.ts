import { Command } from "commander";
import { httpPort, replicaOf, loadRunFile } from "../ingest/config.js";
import { errorMessage } from "../ingest/errors.js";
import { runPipe } from "../ingest/runner.js";
import { httpPortOption } from "./http-port-option.js";

/** `clickpipes run -f FILE`: the ingest core in one local process, no Kubernetes (FILE: a ClickPipe and its Secrets). */
export function runCommand(): Command {
  return new Command("run")
    .description("Run one ClickPipe locally until SIGTERM/SIGINT; FILE holds the ClickPipe and the Secrets it references")
    .requiredOption("-f, --file <file>", "YAML or JSON file with a ClickPipe document and its kind: Secret documents")
    .addOption(httpPortOption())
    .action(async (opts: { file: string; httpPort?: number }) => {
      let code: number;
      try {
        code = await runPipe(loadRunFile(opts.file), { httpPort: opts.httpPort ?? httpPort(process.env), replica: replicaOf(process.env), setup: "create", exitOnCompletion: true });
      } catch (err) {
        process.stderr.write(`clickpipes run: ${errorMessage(err)}\n`);
        code = 1;
      }
      process.exit(code);
    });
}
