import { Command } from "commander";

export function crdCommand(): Command {
  return new Command("crd").action(() => {
    throw new Error("clickpipes crd: not built yet");
  });
}
