import type { TestProject } from "vitest/node";
import { allComponents } from "./components.js";
import { up } from "./stack.js";

declare module "vitest" {
  export interface ProvidedContext {
    stackEnv: Record<string, string>;
  }
}

/**
 * Components only some suites use: they start them themselves (`up(["prometheus"])` in a
 * beforeAll), so a run without those suites neither builds nor starts them.
 */
const ON_DEMAND = new Set(["prometheus"]);

/**
 * Brings the stack up once per test run (idempotent: a stack already running is reused).
 * STACK_COMPONENTS=kafka,clickhouse narrows it for a partial run. The stack is left
 * running afterwards so the next run starts in seconds; `npm run stack -- down` stops it.
 */
export default async function setup(project: TestProject): Promise<void> {
  const wanted = process.env.STACK_COMPONENTS?.split(",").filter(Boolean) ?? allComponents.filter((c) => !ON_DEMAND.has(c));
  const env = await up(wanted);
  project.provide("stackEnv", env);
}
