import { Command } from "commander";
import { clickPipeCrdYaml } from "../api/crd.js";

/** `clickpipes crd`: prints the ClickPipe CustomResourceDefinition generated from the API schema. */
export function crdCommand(): Command {
  return new Command("crd").description("Print the ClickPipe CustomResourceDefinition (YAML)").action(() => {
    process.stdout.write(clickPipeCrdYaml());
  });
}
