/**
 * Where a pipe's files are: the store's endpoint, the bucket (or container) and the key glob,
 * parsed from the spec's URL (or Azure's container and path). Pure.
 */
import type { ObjectStorageSource } from "../../api/index.js";
import { ConfigError } from "../../ingest/errors.js";

export interface Location {
  /** The store's origin for path-style addressing (S3-compatible servers, fake-gcs-server); absent for the clouds' own. */
  readonly endpoint?: string;
  /** AWS/DigitalOcean region when the URL names one. */
  readonly region?: string;
  readonly bucket: string;
  /** The key glob inside the bucket (`logs/**\/*.json.gz`). */
  readonly pattern: string;
}

const AWS_VIRTUAL = /^([^.]+)\.s3[.-](?:([a-z0-9-]+)\.)?amazonaws\.com$/;
const AWS_PATH = /^s3[.-](?:([a-z0-9-]+)\.)?amazonaws\.com$/;
const SPACES = /^([^.]+)\.([a-z0-9-]+)\.digitaloceanspaces\.com$/;
const GCS_VIRTUAL = /^([^.]+)\.storage\.googleapis\.com$/;

function splitPath(path: string, url: string): { bucket: string; pattern: string } {
  const clean = decodeURI(path.replace(/^\/+/, ""));
  const slash = clean.indexOf("/");
  if (slash <= 0 || slash === clean.length - 1) {
    throw new ConfigError(`spec.source.objectStorage.url: "${url}" names no bucket and key glob (expected e.g. http://host:9000/bucket/data/*.json)`);
  }
  return { bucket: clean.slice(0, slash), pattern: clean.slice(slash + 1) };
}

function fromHttp(url: string): Location {
  // The URL parser would percent-encode `{`, `}` and spaces in the glob: take the path from the text.
  const match = /^(https?:\/\/[^/]+)(\/.*)$/.exec(url);
  if (match === null) throw new ConfigError(`spec.source.objectStorage.url: "${url}" has no path`);
  const origin = match[1] as string;
  const path = match[2] as string;
  const host = new URL(origin).hostname;
  const virtual = AWS_VIRTUAL.exec(host) ?? SPACES.exec(host) ?? GCS_VIRTUAL.exec(host);
  if (virtual !== null) {
    const region = virtual[2];
    const key = decodeURI(path.replace(/^\/+/, ""));
    const base = { bucket: virtual[1] as string, pattern: key };
    if (SPACES.test(host)) return { ...base, endpoint: `https://${region}.digitaloceanspaces.com`, region: region };
    return region === undefined ? base : { ...base, region };
  }
  const awsPath = AWS_PATH.exec(host);
  if (awsPath !== null) return { ...splitPath(path, url), ...(awsPath[1] === undefined ? {} : { region: awsPath[1] }) };
  if (host === "storage.googleapis.com") return splitPath(path, url);
  return { ...splitPath(path, url), endpoint: origin };
}

/** The location of `spec`; a ConfigError naming the field when it cannot be read. */
export function parseLocation(spec: ObjectStorageSource): Location {
  if (spec.type === "azureblobstorage") {
    if (spec.azureContainerName === undefined || spec.path === undefined) {
      throw new ConfigError("spec.source.objectStorage: azureContainerName and path are required for type azureblobstorage");
    }
    return { bucket: spec.azureContainerName, pattern: spec.path.replace(/^\/+/, "") };
  }
  const url = spec.url;
  if (url === undefined) throw new ConfigError(`spec.source.objectStorage.url is required for type ${spec.type}`);
  const scheme = /^(s3|gs):\/\/([^/]+)\/(.+)$/.exec(url);
  if (scheme !== null) return { bucket: scheme[2] as string, pattern: scheme[3] as string };
  return fromHttp(url);
}
