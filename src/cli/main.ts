#!/usr/bin/env node
import { Command } from "commander";
import { consumeCommand } from "./consume.js";
import { crdCommand } from "./crd.js";
import { operatorCommand } from "./operator.js";
import { runCommand } from "./run.js";
import { validateCommand } from "./validate.js";

/** One binary, several entrypoints: the operator, the consumer in each pod, and local tools. */
const program = new Command("clickpipes")
  .description("Self-hosted ClickPipes: stream Kafka, Kinesis, object storage and CDC sources into ClickHouse")
  .addCommand(operatorCommand())
  .addCommand(consumeCommand())
  .addCommand(runCommand())
  .addCommand(validateCommand())
  .addCommand(crdCommand());

await program.parseAsync(process.argv);
