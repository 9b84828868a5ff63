import { hostname } from "node:os";
import { Command } from "commander";
import { pino } from "pino";
import { loadOperatorConfig } from "../operator/config.js";
import { startOperator } from "../operator/operator.js";

/**
 * `clickpipes operator`: the reconciler. Configured by environment (see
 * src/operator/config.ts); Kubernetes access in-cluster or from KUBECONFIG.
 */
export function operatorCommand(): Command {
  return new Command("operator")
    .description("Run the ClickPipes operator: reconcile ClickPipe resources into consumer Deployments, ClickHouse users and status")
    .action(async () => {
      const config = loadOperatorConfig(process.env, hostname());
      const log = pino({ level: config.logLevel, base: { component: "operator", identity: config.identity } });
      const operator = await startOperator(config, log, {
        onLostLeadership: () => {
          // A replica that may have missed its Lease must not act as leader a moment longer.
          process.exit(1);
        },
      });
      let stopping = false;
      const shutdown = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, "shutting down");
        operator.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            log.error({ err: error instanceof Error ? error.message : String(error) }, "shutdown failed");
            process.exit(1);
          },
        );
      };
      process.on("SIGTERM", () => shutdown("SIGTERM"));
      process.on("SIGINT", () => shutdown("SIGINT"));
    });
}
