import { Command } from "commander";

export function consumeCommand(): Command {
  return new Command("consume").action(() => {
    throw new Error("clickpipes consume: not built yet");
  });
}
