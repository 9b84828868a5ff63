/**
 * The operator's reachability check of an object storage pipe: one listing call under the
 * glob's literal head, with the pipe's own credentials.
 */
import { ConditionReason, type ClickPipe } from "../../api/index.js";
import { errorMessage } from "../../ingest/errors.js";
import type { SecretResolver } from "../../ingest/secrets.js";
import type { SourceProbeResult } from "../plugin.js";
import { storeAuth } from "./auth.js";
import { compileGlob } from "./glob.js";
import { parseLocation } from "./location.js";
import { openStore } from "./stores.js";

export async function probeObjectStorage(pipe: ClickPipe, secrets: SecretResolver, timeoutMs: number): Promise<SourceProbeResult> {
  const source = pipe.spec.source.objectStorage;
  if (source === undefined) throw new Error("probeObjectStorage: spec.source.objectStorage is not set");
  let store;
  let prefix;
  try {
    const location = parseLocation(source);
    prefix = compileGlob(location.pattern).prefix;
    store = openStore(source, location, storeAuth(pipe, source, secrets));
  } catch (err) {
    return { reachability: { ok: false, reason: ConditionReason.InvalidSpec, message: errorMessage(err) } };
  }
  try {
    await store.check(prefix, AbortSignal.timeout(timeoutMs));
    return { reachability: { ok: true, reason: ConditionReason.SourceReachable, message: `${source.type} answered a listing of ${prefix || "the bucket"}` } };
  } catch (err) {
    return { reachability: { ok: false, reason: ConditionReason.SourceUnreachable, message: errorMessage(err) } };
  } finally {
    store.close();
  }
}
