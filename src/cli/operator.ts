import { hostname } from "node:os";
import { Command } from "commander";
import { pino, type Logger } from "pino";
import type { RunningOperator } from "../operator/operator.js";
import { httpPortOption } from "./http-port-option.js";

/**
 * `clickpipes operator`: the reconciler. Configured by environment (see
 * src/operator/config.ts); Kubernetes access in-cluster or from KUBECONFIG.
 */
export function operatorCommand(): Command {
  return new Command("operator")
    .description("Run the ClickPipes operator: reconcile ClickPipe resources into consumer Deployments, ClickHouse users and status")
    .addOption(httpPortOption())
    .action(async (opts: { httpPort?: number }) => {
      // The operator's module graph (the Kubernetes client) loads for this command only: consumers start lighter.
      const { loadOperatorConfig } = await import("../operator/config.js");
      const { startOperator } = await import("../operator/operator.js");
      let operator: RunningOperator;
      let log: Logger;
      try {
        const fromEnv = loadOperatorConfig(process.env, hostname());
        const config = opts.httpPort === undefined ? fromEnv : { ...fromEnv, httpPort: opts.httpPort };
        log = pino({ level: config.logLevel, base: { component: "operator", identity: config.identity } });
        operator = await startOperator(config, log, {
          onLostLeadership: () => {
            // A replica that may have missed its Lease must not act as leader a moment longer.
            process.exit(1);
          },
        });
      } catch (error) {
        // A start-up failure (bad env, port taken, no cluster) is one line for the user, not a stack trace.
        process.stderr.write(`clickpipes operator: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      }
      log.info({ port: operator.httpPort }, "serving /healthz, /readyz and /metrics");
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
