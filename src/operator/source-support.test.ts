import { beforeEach, describe, expect, it, vi } from "vitest";
import { ConditionReason, sourceKind, type ClickPipeSpec, type SourceKind } from "../api/index.js";
import type { SourceCapabilities, SourcePlugin } from "../sources/plugin.js";
import { cappedReplicas, consumerWorkloadKind, unsupportedSource } from "./source-support.js";
import { samplePipe } from "./test-fixtures.js";

/** The registry, as this test sets it: which kinds have a plugin, and with which capabilities. */
const registered = new Map<SourceKind, SourceCapabilities>();

vi.mock("../sources/registry.js", () => ({
  sourcePlugin: (spec: Pick<ClickPipeSpec, "source">): Partial<SourcePlugin> | undefined => {
    const caps = registered.get(sourceKind(spec));
    return caps ? { kind: sourceKind(spec), capabilities: () => caps } : undefined;
  },
  ingestedKinds: (): SourceKind[] => [...registered.keys()],
}));

const continuous: SourceCapabilities = { maxReplicas: 10, mode: "continuous", lagUnit: "records", positions: "source", replicaIdentity: "none" };
const kinesisPipe = (): ReturnType<typeof samplePipe> =>
  samplePipe({ spec: { source: { kinesis: { streamName: "events", region: "us-east-1", authentication: "IAM_ROLE", iamRole: "arn:aws:iam::123456789012:role/clickpipes" } } } });

beforeEach(() => {
  registered.clear();
  registered.set("kafka", continuous);
});

describe("unsupportedSource", () => {
  it("lets a pipe through whose source has a plugin", () => {
    expect(unsupportedSource(samplePipe())).toBeUndefined();
  });

  it("blocks a pipe whose source has no plugin, naming the field and the kinds this build ingests", () => {
    const blocker = unsupportedSource(kinesisPipe());
    expect(blocker?.reason).toBe(ConditionReason.SourceNotSupported);
    expect(blocker?.message).toBe("spec.source.kinesis: this release ingests kafka sources only; the pipe is accepted and kept, and no consumers are started");
  });

  it("follows the registry: a registered plugin makes its kind supported", () => {
    registered.set("kinesis", continuous);
    expect(unsupportedSource(kinesisPipe())).toBeUndefined();
  });
});

describe("cappedReplicas", () => {
  it("caps spec.scaling.replicas at the plugin's maxReplicas", () => {
    registered.set("kafka", { ...continuous, maxReplicas: 1 });
    expect(cappedReplicas(samplePipe().spec)).toBe(1);
  });

  it("keeps replicas below the cap, and runs none for a source without a plugin", () => {
    expect(cappedReplicas(samplePipe().spec)).toBe(2);
    expect(cappedReplicas(kinesisPipe().spec)).toBe(0);
  });
});

describe("consumerWorkloadKind", () => {
  it("is a StatefulSet only for a source whose replicas need a stable index", () => {
    expect(consumerWorkloadKind(samplePipe().spec)).toBe("Deployment");
    registered.set("kafka", { ...continuous, replicaIdentity: "index" });
    expect(consumerWorkloadKind(samplePipe().spec)).toBe("StatefulSet");
    expect(consumerWorkloadKind(kinesisPipe().spec)).toBe("Deployment");
  });
});
