import { Command } from "commander";

export function operatorCommand(): Command {
  return new Command("operator").action(() => {
    throw new Error("clickpipes operator: not built yet");
  });
}
