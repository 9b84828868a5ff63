import { pino, type Logger } from "pino";

export type { Logger };

/** JSON lines on stdout; every line carries the pipe (`<namespace>/<name>`). */
export function createLogger(pipe: string, level: string = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({ level, base: { pipe }, timestamp: pino.stdTimeFunctions.isoTime });
}
