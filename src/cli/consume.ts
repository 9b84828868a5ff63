import { Command } from "commander";
import { httpPort, replicaOf, loadConsumeConfig } from "../ingest/config.js";
import { errorMessage } from "../ingest/errors.js";
import { runPipe } from "../ingest/runner.js";
import { httpPortOption } from "./http-port-option.js";

/** `clickpipes consume`: the consumer in each pod; pipe from CLICKPIPE_CONFIG_FILE, Secrets under CLICKPIPE_SECRETS_DIR. */
export function consumeCommand(): Command {
  return new Command("consume")
    .description("Consume one ClickPipe (in a consumer pod): reads CLICKPIPE_CONFIG_FILE and CLICKPIPE_SECRETS_DIR")
    .addOption(httpPortOption())
    .action(async (opts: { httpPort?: number }) => {
      let code: number;
      try {
        // In a cluster the operator created the tables; the pipe's user has no DDL rights.
        code = await runPipe(loadConsumeConfig(process.env), { httpPort: opts.httpPort ?? httpPort(process.env), replica: replicaOf(process.env), setup: "check", exitOnCompletion: false });
      } catch (err) {
        process.stderr.write(`clickpipes consume: ${errorMessage(err)}\n`);
        code = 1;
      }
      process.exit(code);
    });
}
