import { waitFor } from "../stack/process.js";

/**
 * Waits until the ClickPipe CRD is served. `kubectl wait --for=condition=Established` fails
 * at once ("<nil> is of the type <nil>, expected []interface{}") when it reads the CRD before
 * the apiserver has written its first status, as happens right after another suite re-applies
 * it; polling the conditions has no such race.
 */
export async function waitCrdEstablished(kubectl: (args: string[]) => Promise<string>, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    "the ClickPipe CRD to be Established",
    async () => {
      const crd = JSON.parse(await kubectl(["get", "crd", "clickpipes.clickpipes.io", "-o", "json"])) as {
        status?: { conditions?: { type: string; status: string }[] };
      };
      return crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") ?? false;
    },
    timeoutMs,
  );
}
