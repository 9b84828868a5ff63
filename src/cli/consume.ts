import { Command } from "commander";
import { httpPort, loadConsumeConfig } from "../ingest/config.js";
import { errorMessage } from "../ingest/errors.js";
import { runPipe } from "../ingest/runner.js";

/** `clickpipes consume`: the consumer in each pod; pipe from CLICKPIPE_CONFIG_FILE, Secrets under CLICKPIPE_SECRETS_DIR. */
export function consumeCommand(): Command {
  return new Command("consume")
    .description("Consume one ClickPipe (in a consumer pod): reads CLICKPIPE_CONFIG_FILE and CLICKPIPE_SECRETS_DIR")
    .action(async () => {
      let code: number;
      try {
        code = await runPipe(loadConsumeConfig(process.env), { httpPort: httpPort(process.env) });
      } catch (err) {
        process.stderr.write(`clickpipes consume: ${errorMessage(err)}\n`);
        code = 1;
      }
      process.exit(code);
    });
}
