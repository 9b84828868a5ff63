import { beforeEach, describe, expect, it, vi } from "vitest";
import { sourceKind, type ClickPipeSpec, type SourceKind } from "../api/index.js";
import type { SourceCapabilities, SourcePlugin } from "../sources/plugin.js";
import { buildConsumerStatefulSet, buildConsumerWorkload, otherWorkloadKind, replicaIdentityEnv, workloadPath } from "./consumer-workload.js";
import { buildConsumerDeployment, SIZE_PRESETS } from "./desired.js";
import { samplePipe } from "./test-fixtures.js";

/** The registry as this test sets it: the sample pipe's kafka source, with the capabilities a case needs. */
const registered = new Map<SourceKind, SourceCapabilities>();

vi.mock("../sources/registry.js", () => ({
  sourcePlugin: (spec: Pick<ClickPipeSpec, "source">): Partial<SourcePlugin> | undefined => {
    const caps = registered.get(sourceKind(spec));
    return caps ? { kind: sourceKind(spec), capabilities: () => caps } : undefined;
  },
  ingestedKinds: (): SourceKind[] => [...registered.keys()],
}));

const balanced: SourceCapabilities = { maxReplicas: 10, mode: "continuous", lagUnit: "records", positions: "source", replicaIdentity: "none" };
const indexed: SourceCapabilities = { ...balanced, lagUnit: "ms", positions: "checkpointStore", replicaIdentity: "index" };
const config = { image: "clickpipes:1", serviceAccount: "clickpipes-consumer", sizePresets: SIZE_PRESETS, configHash: "abc" };

type Env = NonNullable<NonNullable<NonNullable<ReturnType<typeof buildConsumerStatefulSet>["spec"]>["template"]["spec"]>["containers"][number]["env"]>;
const envOf = (env: Env | undefined): Record<string, unknown> => Object.fromEntries((env ?? []).map((e) => [e.name, e.value ?? e.valueFrom?.fieldRef?.fieldPath]));

/** A pod template split into its consumer container's env and everything else. */
function templateParts(template: NonNullable<ReturnType<typeof buildConsumerStatefulSet>["spec"]>["template"] | undefined): { env: Env; rest: unknown } {
  const containers = template?.spec?.containers ?? [];
  const [first, ...others] = containers;
  const { env = [], ...container } = first ?? { name: "" };
  return { env, rest: { ...template, spec: { ...template?.spec, containers: [container, ...others] } } };
}

beforeEach(() => {
  registered.clear();
  registered.set("kafka", indexed);
});

describe("buildConsumerWorkload", () => {
  it("runs the consumers of a source that needs a replica index as a StatefulSet, else as a Deployment", () => {
    expect(buildConsumerWorkload(samplePipe(), config).kind).toBe("StatefulSet");
    expect(buildConsumerWorkload(samplePipe(), config).object.kind).toBe("StatefulSet");
    registered.set("kafka", balanced);
    expect(buildConsumerWorkload(samplePipe(), config).object.kind).toBe("Deployment");
  });

  it("the other kind and the REST path of each", () => {
    expect(otherWorkloadKind("Deployment")).toBe("StatefulSet");
    expect(otherWorkloadKind("StatefulSet")).toBe("Deployment");
    expect(workloadPath("StatefulSet", "a", "x")).toBe("/apis/apps/v1/namespaces/a/statefulsets/x");
    expect(workloadPath("Deployment", "a", "x")).toBe("/apis/apps/v1/namespaces/a/deployments/x");
  });
});

describe("buildConsumerStatefulSet", () => {
  it("has the Deployment's name, labels, owner, selector, replicas and pod template, plus the replica identity env", () => {
    const pipe = samplePipe();
    const sts = buildConsumerStatefulSet(pipe, config);
    const dep = buildConsumerDeployment(pipe, config);
    expect(sts.metadata).toEqual(dep.metadata);
    expect(sts.spec?.selector).toEqual(dep.spec?.selector);
    expect(sts.spec?.replicas).toBe(2);
    expect(sts.spec?.podManagementPolicy).toBe("Parallel");
    expect(sts.spec?.serviceName).toBeUndefined();
    const stsTemplate = templateParts(sts.spec?.template);
    const depTemplate = templateParts(dep.spec?.template);
    expect(stsTemplate.rest).toEqual(depTemplate.rest);
    const stsEnv = stsTemplate.env;
    expect(stsEnv.slice(0, depTemplate.env.length)).toEqual(depTemplate.env);
    expect(envOf(stsEnv)).toMatchObject({ CLICKPIPES_REPLICAS: "2", CLICKPIPES_REPLICA_INDEX: "metadata.labels['apps.kubernetes.io/pod-index']", POD_NAME: "metadata.name" });
  });

  it("puts the replica count in the pod template, so scaling rolls every pod and the work is split anew", () => {
    const one = buildConsumerStatefulSet(samplePipe({ spec: { scaling: { replicas: 1, size: "M" } } }), config);
    const three = buildConsumerStatefulSet(samplePipe({ spec: { scaling: { replicas: 3, size: "M" } } }), config);
    expect(envOf(one.spec?.template.spec?.containers[0]?.env).CLICKPIPES_REPLICAS).toBe("1");
    expect(envOf(three.spec?.template.spec?.containers[0]?.env).CLICKPIPES_REPLICAS).toBe("3");
    expect(three.spec?.replicas).toBe(3);
  });

  it("runs no pods when stopped, failed or completed, and keeps the template as it was, so starting again rolls nothing", () => {
    const running = buildConsumerStatefulSet(samplePipe(), config);
    for (const pipe of [samplePipe({ spec: { state: "Stopped" } }), samplePipe({ status: { phase: "Failed" } }), samplePipe({ status: { phase: "Completed" } })]) {
      const sts = buildConsumerStatefulSet(pipe, config);
      expect(sts.spec?.replicas).toBe(0);
      expect(sts.spec?.template).toEqual(running.spec?.template);
    }
  });

  it("caps the replicas and the count the consumers see at the source's maxReplicas, never below 1 in the env", () => {
    registered.set("kafka", { ...indexed, maxReplicas: 1 });
    const capped = buildConsumerStatefulSet(samplePipe({ spec: { scaling: { replicas: 4, size: "M" } } }), config);
    expect(capped.spec?.replicas).toBe(1);
    expect(replicaIdentityEnv(samplePipe({ spec: { scaling: { replicas: 0, size: "M" } } }))[0]).toEqual({ name: "CLICKPIPES_REPLICAS", value: "1" });
  });
});
