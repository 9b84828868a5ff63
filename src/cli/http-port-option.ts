import { InvalidArgumentError, Option } from "commander";
import { parseHttpPort } from "../ingest/http-listen.js";

/**
 * `--http-port N`, shared by `run`, `consume` and `operator`: the port of /healthz, /readyz
 * and /metrics; 0 picks a free port (the start log says which). Overrides CLICKPIPES_HTTP_PORT.
 */
export function httpPortOption(): Option {
  return new Option("--http-port <port>", "port of /healthz, /readyz and /metrics; 0 picks a free port, logged at start (default: CLICKPIPES_HTTP_PORT, else 8080)").argParser(
    (text: string): number => {
      try {
        return parseHttpPort(text);
      } catch (err) {
        // commander prints an InvalidArgumentError as one usage line instead of a stack trace.
        throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
      }
    },
  );
}
