import { Command } from "commander";

export function validateCommand(): Command {
  return new Command("validate").action(() => {
    throw new Error("clickpipes validate: not built yet");
  });
}
