/**
 * The store client of a pipe, from its type and authentication: S3 and DigitalOcean Spaces
 * through the S3 SDK; GCS through its JSON API (service account, public) or, with HMAC keys,
 * through its S3-compatible endpoint; Azure through its SDK with a connection string.
 */
import type { ObjectStorageSource } from "../../api/index.js";
import { ConfigError } from "../../ingest/errors.js";
import { type StoreAuth, awsCredentials } from "./auth.js";
import type { Location } from "./location.js";
import { lazyStore } from "./lazy-store.js";
import type { GcsStoreOptions } from "./gcs-store.js";
import type { S3StoreOptions } from "./s3-store.js";
import type { ObjectStore } from "./store.js";

export const GCS_INTEROP_ENDPOINT = "https://storage.googleapis.com";

export function openStore(spec: ObjectStorageSource, location: Location, auth: StoreAuth): ObjectStore {
  if (spec.type === "azureblobstorage") {
    if (auth.kind !== "connectionString") throw new ConfigError("spec.source.objectStorage.authentication: azureblobstorage needs CONNECTION_STRING");
    const connectionString = auth.connectionString;
    return lazyStore(async () => new (await import("./azure-store.js")).AzureStore(location, connectionString));
  }
  if (spec.type === "gcs") {
    if (auth.kind === "accessKey") return s3Store({ location, credentials: awsCredentials(auth, "auto"), tableFunction: "gcs", defaultEndpoint: GCS_INTEROP_ENDPOINT });
    if (auth.kind === "serviceAccount") return gcsStore(location, auth.key);
    if (auth.kind === "public") return gcsStore(location, undefined);
    throw new ConfigError(`spec.source.objectStorage.authentication: gcs takes IAM_USER (HMAC keys), SERVICE_ACCOUNT or none, not ${auth.kind}`);
  }
  if (auth.kind === "serviceAccount" || auth.kind === "connectionString") {
    throw new ConfigError(`spec.source.objectStorage.authentication: ${spec.type} takes IAM_USER, IAM_ROLE or none (public bucket)`);
  }
  return s3Store({ location, credentials: awsCredentials(auth, location.region ?? "us-east-1"), tableFunction: "s3" });
}

function s3Store(options: S3StoreOptions): ObjectStore {
  return lazyStore(async () => new (await import("./s3-store.js")).S3Store(options));
}

function gcsStore(location: Location, serviceAccountKey: GcsStoreOptions["serviceAccountKey"]): ObjectStore {
  return lazyStore(async () => new (await import("./gcs-store.js")).GcsStore({ location, serviceAccountKey }));
}
