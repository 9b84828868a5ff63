import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";

/**
 * Runs docs/argocd/health.lua in Debian's Lua 5.1 (`apt-get install lua5.1`), the language
 * level of gopher-lua, which Argo CD embeds, against ClickPipe objects in each state.
 */
const root = join(import.meta.dirname, "../..");
const healthLua = join(root, "docs/argocd/health.lua");
const LUA = "lua5.1";

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** A JSON value as a Lua table constructor (Argo CD hands the script the object the same way). */
function toLua(value: Json): string {
  if (value === null) return "nil";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `{ ${value.map(toLua).join(", ")} }`;
  return `{ ${Object.entries(value)
    .map(([k, v]) => `[${JSON.stringify(k)}] = ${toLua(v)}`)
    .join(", ")} }`;
}

interface Health {
  status: string;
  message: string;
}

function health(obj: Json): Health {
  const program = `obj = ${toLua(obj)}
local hs = dofile(${JSON.stringify(healthLua)})
io.write(hs.status, "\\n", hs.message or "")`;
  let out: string;
  try {
    out = execFileSync(LUA, ["-"], { input: program, encoding: "utf8" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new Error(`${LUA} is not installed: apt-get install -y ${LUA} (.ci/run installs it)`);
    throw err;
  }
  const [status = "", ...message] = out.split("\n");
  return { status, message: message.join("\n") };
}

interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
}

function cond(type: string, status: Condition["status"], reason: string, message = ""): Condition {
  return { type, status, reason, message };
}

function pipe(status: Json | undefined, generation = 3): Json {
  const obj: Json = {
    apiVersion: "clickpipes.io/v1alpha1",
    kind: "ClickPipe",
    metadata: { name: "events", namespace: "analytics", generation },
    spec: { state: "Running" },
  };
  if (status !== undefined) obj.status = status;
  return obj;
}

function status(phase: string, conditions: Condition[], extra: Record<string, Json> = {}): Json {
  return { phase, observedGeneration: 3, conditions: conditions as unknown as Json, ...extra };
}

describe("Argo CD health check for ClickPipe", () => {
  it("is Healthy when Running and Ready", () => {
    const h = health(pipe(status("Running", [cond("Ready", "True", "ConsumersReady"), cond("Progressing", "False", "Reconciled")])));
    expect(h.status).toBe("Healthy");
  });

  it("is Progressing before the operator has written any status", () => {
    expect(health(pipe(undefined)).status).toBe("Progressing");
  });

  it("is Progressing while the operator has not observed the latest generation", () => {
    const h = health(pipe(status("Running", [cond("Ready", "True", "ConsumersReady")]), 4));
    expect(h).toEqual({ status: "Progressing", message: "Waiting for the operator to apply generation 4" });
  });

  it.each(["Provisioning", "Setup", "Snapshot"])("is Progressing in phase %s", (phase) => {
    const h = health(pipe(status(phase, [cond("Ready", "False", phase, `pipe is in ${phase}`)])));
    expect(h.status).toBe("Progressing");
  });

  it("is Progressing while a Ready pipe catches up on a backlog", () => {
    const h = health(
      pipe(status("Running", [cond("Ready", "True", "ConsumersReady"), cond("Progressing", "True", "Reconciling", "catching up: lag 120000 records")])),
    );
    expect(h).toEqual({ status: "Progressing", message: "catching up: lag 120000 records" });
  });

  it("is Progressing during a consumer rollout", () => {
    const h = health(pipe(status("Running", [cond("Ready", "True", "ConsumersReady"), cond("Progressing", "True", "RolloutInProgress", "1/2 updated")])));
    expect(h).toEqual({ status: "Progressing", message: "1/2 updated" });
  });

  it("is Progressing while Running consumers are not ready yet", () => {
    const h = health(pipe(status("Running", [cond("Ready", "False", "ConsumersNotReady", "0/2 consumer replicas ready")])));
    expect(h).toEqual({ status: "Progressing", message: "0/2 consumer replicas ready" });
  });

  it("is Degraded on Failed, with the reason a human can act on", () => {
    const h = health(
      pipe(
        status("Failed", [cond("Ready", "False", "SourceUnreachableTimeout", "Kafka brokers unreachable for 15 minutes: connection refused")], {
          errors: { records: 0, system: 1 },
        }),
      ),
    );
    expect(h).toEqual({ status: "Degraded", message: "Kafka brokers unreachable for 15 minutes: connection refused" });
  });

  it("is Degraded on Failed even without a Ready condition, using the last error", () => {
    const h = health(pipe(status("Failed", [], { errors: { records: 0, system: 1, lastError: { type: "DESTINATION", message: "table gone" } } })));
    expect(h).toEqual({ status: "Degraded", message: "table gone" });
  });

  it("is Suspended when Stopped", () => {
    const h = health(pipe(status("Stopped", [cond("Ready", "False", "Stopped")])));
    expect(h.status).toBe("Suspended");
  });

  it("is Healthy when a one-shot pipe Completed", () => {
    expect(health(pipe(status("Completed", [cond("Ready", "True", "Completed")]))).status).toBe("Healthy");
  });

  it("ships the same Lua in the example argocd-cm as in health.lua", () => {
    const docs = parseAllDocuments(readFileSync(join(root, "docs/argocd/application.yaml"), "utf8")).map((d) => d.toJS() as Record<string, unknown>);
    const cm = docs.find((d) => d.kind === "ConfigMap") as { data: Record<string, string> };
    expect(cm.data["resource.customizations.health.clickpipes.io_ClickPipe"]).toBe(readFileSync(healthLua, "utf8"));
    const app = docs.find((d) => d.kind === "Application");
    expect(app).toBeDefined();
  });
});
