import { allComponents } from "./components.js";
import { envFile } from "./env.js";
import { down, killComponent, outage, startComponent, status, stopComponent, up } from "./stack.js";

const usage = `usage: npm run stack -- <command>
  up [--only a,b]     provision and start (components: ${allComponents.join(", ")}); idempotent
  down [--only a,b]   stop what the stack started (the cache stays)
  status              show which components are running
  stop|start|kill NAME      fault helpers: graceful stop, start again on the same ports, kill -9
  outage NAME SECONDS       refuse connections for SECONDS, then come back`;

function only(args: string[]): string[] {
  const i = args.indexOf("--only");
  if (i < 0) return allComponents;
  const list = args[i + 1];
  if (!list) throw new Error("--only needs a comma-separated list of components");
  return list.split(",").map((s) => s.trim()).filter(Boolean);
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "up":
      await up(only(rest));
      process.stdout.write(`stack is up; env written to ${envFile}\n`);
      return;
    case "down":
      return down(only(rest));
    case "status":
      for (const [name, ok] of Object.entries(await status())) process.stdout.write(`${name.padEnd(12)} ${ok ? "running" : "stopped"}\n`);
      return;
    case "stop":
      return stopComponent(required(rest[0], "component name"));
    case "start":
      await startComponent(required(rest[0], "component name"));
      return;
    case "kill":
      return killComponent(required(rest[0], "component name"));
    case "outage":
      return outage(required(rest[0], "component name"), Number(required(rest[1], "seconds")));
    default:
      process.stderr.write(`${usage}\n`);
      process.exitCode = cmd === undefined || cmd === "help" ? 0 : 2;
  }
}

function required(value: string | undefined, what: string): string {
  if (value === undefined) throw new Error(`missing ${what}\n${usage}`);
  return value;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
