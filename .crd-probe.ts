import { readFileSync, readdirSync } from "node:fs";
import * as k8s from "@kubernetes/client-node";
import { parse, parseAllDocuments } from "yaml";
const env = Object.fromEntries(readFileSync(".stack/env", "utf8").split("\n").filter(Boolean).map((l) => { const i = l.indexOf("="); return [l.slice(0, i), l.slice(i + 1).replace(/^'|'$/g, "")]; }));
const kc = new k8s.KubeConfig(); kc.loadFromFile(env.KUBECONFIG);
const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
const co = kc.makeApiClient(k8s.CustomObjectsApi);
const crd = parse(readFileSync("crds/clickpipes.io_clickpipes.yaml", "utf8"));
try { await ext.deleteCustomResourceDefinition({ name: crd.metadata.name }); await new Promise((r) => setTimeout(r, 3000)); } catch {}
try { await ext.createCustomResourceDefinition({ body: crd }); console.log("CRD created"); } catch (e: any) { console.log("CRD REJECTED", e.body ?? e.message); process.exit(1); }
for (let i = 0; i < 30; i++) { const c = await ext.readCustomResourceDefinition({ name: crd.metadata.name }); if (c.status?.conditions?.some((x) => x.type === "Established" && x.status === "True")) break; await new Promise((r) => setTimeout(r, 500)); }
async function tryCreate(body: any): Promise<string> {
  try { const out: any = await co.createNamespacedCustomObject({ group: "clickpipes.io", version: "v1alpha1", namespace: "default", plural: "clickpipes", body, dryRun: "All", fieldValidation: "Strict" }); return "ACCEPTED " + JSON.stringify(out.spec).slice(0, 0); }
  catch (e: any) { const b = typeof e.body === "string" ? JSON.parse(e.body) : e.body; return "REJECTED " + (b?.message ?? e.message); }
}
const pipeOf = (f: string) => parseAllDocuments(readFileSync(f, "utf8")).map((d) => d.toJS()).find((d: any) => d?.kind === "ClickPipe" || d?.apiVersion === "clickpipes.io/v1alpha1");
for (const f of readdirSync("examples")) console.log("example", f, await tryCreate(pipeOf("examples/" + f)));
for (const f of readdirSync("test/unit/manifests/invalid").sort()) console.log(f, (await tryCreate(pipeOf("test/unit/manifests/invalid/" + f))).slice(0, 260));
