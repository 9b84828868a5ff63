import { Command } from "commander";

export function runCommand(): Command {
  return new Command("run").action(() => {
    throw new Error("clickpipes run: not built yet");
  });
}
