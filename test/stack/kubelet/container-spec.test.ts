import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { ContainerConfigError, expandVars, parseEntrypoint, resolveContainer, rewritePath, type ContainerInputs } from "./container-spec.js";

const pod: V1Pod = {
  metadata: { name: "web-abc", namespace: "shop", uid: "u-1", labels: { app: "web", "apps.kubernetes.io/pod-index": "1" } },
  spec: { nodeName: "local-node", containers: [] },
};

function inputs(container: V1Container, over: Partial<ContainerInputs> = {}): ContainerInputs {
  return {
    pod,
    container,
    nodeExecPath: "/opt/node/bin/node",
    repoRoot: "/work/repo",
    imageEntrypoint: undefined,
    pathMap: [
      ["/app", "/work/repo"],
      ["/etc/pipe", "/tmp/vol/pipe"],
    ],
    hostPorts: new Map([[8080, 41234]]),
    configMaps: new Map([["cfg", { GREETING: "hello", MODE: "fast" }]]),
    secrets: new Map([["creds", { password: "s3cret" }]]),
    baseEnv: { PATH: "/usr/bin", HOSTNAME: "web-abc" },
    ...over,
  };
}

describe("resolveContainer", () => {
  it("runs node from the host with /app and volume paths mapped to the host", () => {
    const r = resolveContainer(inputs({ name: "c", command: ["node", "/app/dist/main.js"], args: ["--config=x", "/etc/pipe/pipe.json"] }));
    expect(r.file).toBe("/opt/node/bin/node");
    expect(r.args).toEqual(["/work/repo/dist/main.js", "--config=x", "/tmp/vol/pipe/pipe.json"]);
    expect(r.cwd).toBe("/work/repo");
  });

  it("resolves env from values, ConfigMap and Secret refs, envFrom and the downward API", () => {
    const r = resolveContainer(
      inputs({
        name: "c",
        command: ["sh"],
        envFrom: [{ configMapRef: { name: "cfg" }, prefix: "CFG_" }],
        env: [
          { name: "PORT", value: "8080" },
          { name: "GREETING", valueFrom: { configMapKeyRef: { name: "cfg", key: "GREETING" } } },
          { name: "PASSWORD", valueFrom: { secretKeyRef: { name: "creds", key: "password" } } },
          { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          { name: "NS", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
          { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: "INDEX", valueFrom: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } } },
          { name: "IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
          { name: "MSG", value: "$(GREETING) from $(POD), $$(NOT) $(MISSING)" },
          { name: "FILE", value: "/etc/pipe/pipe.json" },
        ],
      }),
    );
    expect(r.env).toMatchObject({
      CFG_GREETING: "hello",
      CFG_MODE: "fast",
      PORT: "41234",
      GREETING: "hello",
      PASSWORD: "s3cret",
      POD: "web-abc",
      NS: "shop",
      APP: "web",
      INDEX: "1",
      IP: "127.0.0.1",
      MSG: "hello from web-abc, $(NOT) $(MISSING)",
      FILE: "/tmp/vol/pipe/pipe.json",
      HOSTNAME: "web-abc",
    });
  });

  it("fails with a config error naming a missing Secret key, unless the ref is optional", () => {
    const missing = inputs({ name: "c", command: ["sh"], env: [{ name: "X", valueFrom: { secretKeyRef: { name: "creds", key: "nope" } } }] });
    expect(() => resolveContainer(missing)).toThrow(ContainerConfigError);
    expect(() => resolveContainer(missing)).toThrow(/couldn't find key nope in Secret creds/);
    const optional = inputs({ name: "c", command: ["sh"], env: [{ name: "X", valueFrom: { secretKeyRef: { name: "gone", key: "k", optional: true } } }] });
    expect(resolveContainer(optional).env.X).toBeUndefined();
  });

  it("uses the image entrypoint when the container has no command", () => {
    const r = resolveContainer(inputs({ name: "c", args: ["consume"] }, { imageEntrypoint: ["node", "/app/dist/src/cli/main.js"] }));
    expect([r.file, ...r.args]).toEqual(["/opt/node/bin/node", "/work/repo/dist/src/cli/main.js", "consume"]);
    expect(() => resolveContainer(inputs({ name: "c", args: ["consume"] }))).toThrow(/image entrypoint is unknown/);
  });
});

describe("path and variable helpers", () => {
  it("rewrites only whole path components, longest mount first", () => {
    const map: Array<[string, string]> = [
      ["/etc", "/h/etc"],
      ["/etc/pipe", "/h/pipe"],
    ];
    expect(rewritePath("/etc/pipe/a.json", map)).toBe("/h/pipe/a.json");
    expect(rewritePath("/etc/pipeline", map)).toBe("/h/etc/pipeline");
    expect(rewritePath("/etcetera", map)).toBe("/etcetera");
  });

  it("expands $(VAR) and keeps $$ as an escape", () => {
    expect(expandVars("a$(X)b$$(X)", { X: "1" })).toBe("a1b$(X)");
  });

  it("reads the exec-form ENTRYPOINT of a Dockerfile", () => {
    expect(parseEntrypoint('FROM node:20\nWORKDIR /app\nENTRYPOINT ["node", "/app/dist/src/cli/main.js"]\n')).toEqual(["node", "/app/dist/src/cli/main.js"]);
    expect(parseEntrypoint("FROM scratch\n")).toBeUndefined();
  });
});
