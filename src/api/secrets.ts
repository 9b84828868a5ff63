import { SecretKeys } from "./common.js";
import type { ClickPipeSpec } from "./spec.js";

/** A Secret the pipe reads, the keys it needs from it and the field that names it. */
export interface SecretReference {
  /** Field path of the reference, e.g. spec.source.kafka.credentialsSecretRef. */
  readonly path: string;
  readonly name: string;
  readonly keys: readonly string[];
}

const USER_PASSWORD = [SecretKeys.username, SecretKeys.password] as const;
const ACCESS_KEY = [SecretKeys.accessKeyId, SecretKeys.secretAccessKey] as const;

type Ref = { name: string; key?: string } | undefined;

function ref(path: string, secret: Ref, keys: readonly string[]): SecretReference[] {
  return secret === undefined ? [] : [{ path, name: secret.name, keys }];
}

function keyRef(path: string, secret: Ref): SecretReference[] {
  return secret === undefined ? [] : [{ path, name: secret.name, keys: [secret.key ?? SecretKeys.caCertificate] }];
}

function kafkaReferences(kafka: NonNullable<ClickPipeSpec["source"]["kafka"]>): SecretReference[] {
  const at = "spec.source.kafka";
  return [
    ...ref(`${at}.credentialsSecretRef`, kafka.credentialsSecretRef, kafka.authentication === "IAM_USER" ? ACCESS_KEY : USER_PASSWORD),
    ...keyRef(`${at}.caCertificateSecretRef`, kafka.caCertificateSecretRef),
    ...ref(`${at}.clientCertificateSecretRef`, kafka.clientCertificateSecretRef, [SecretKeys.tlsCertificate, SecretKeys.tlsKey]),
    ...ref(`${at}.schemaRegistry.credentialsSecretRef`, kafka.schemaRegistry?.credentialsSecretRef, USER_PASSWORD),
  ];
}

const OBJECT_STORAGE_KEYS: Readonly<Record<string, readonly string[]>> = {
  IAM_USER: ACCESS_KEY,
  SERVICE_ACCOUNT: [SecretKeys.serviceAccountKey],
  CONNECTION_STRING: [SecretKeys.connectionString],
};

/** The SSH tunnel's private key, for the database sources that have the option. */
function sshReferences(kind: string, db: object): SecretReference[] {
  if (!("sshTunnel" in db)) return [];
  const tunnel = db.sshTunnel as { privateKeySecretRef: { name: string; key: string } } | undefined;
  return tunnel === undefined ? [] : [{ path: `spec.source.${kind}.sshTunnel.privateKeySecretRef`, name: tunnel.privateKeySecretRef.name, keys: [tunnel.privateKeySecretRef.key] }];
}

function sourceReferences(source: ClickPipeSpec["source"]): SecretReference[] {
  const { kafka, kinesis, objectStorage, bigquery } = source;
  if (kafka !== undefined) return kafkaReferences(kafka);
  if (kinesis !== undefined) return ref("spec.source.kinesis.credentialsSecretRef", kinesis.credentialsSecretRef, ACCESS_KEY);
  if (objectStorage !== undefined) {
    const keys = OBJECT_STORAGE_KEYS[objectStorage.authentication ?? ""] ?? [];
    return ref("spec.source.objectStorage.credentialsSecretRef", objectStorage.credentialsSecretRef, keys);
  }
  if (bigquery !== undefined) {
    return ref("spec.source.bigquery.credentialsSecretRef", bigquery.credentialsSecretRef, [SecretKeys.serviceAccountFile]);
  }
  for (const kind of ["postgres", "mysql", "mongodb"] as const) {
    const db = source[kind];
    if (db === undefined) continue;
    return [
      ...ref(`spec.source.${kind}.credentialsSecretRef`, db.credentialsSecretRef, USER_PASSWORD),
      ...keyRef(`spec.source.${kind}.caCertificateSecretRef`, db.caCertificateSecretRef),
      ...sshReferences(kind, db),
    ];
  }
  return [];
}

/**
 * Every Secret a pipe reads and the keys it needs: the operator mounts these Secrets into the
 * consumer pods, and `clickpipes validate` / `run` check them against the Secrets in a file.
 */
export function secretReferences(spec: ClickPipeSpec): SecretReference[] {
  return [
    ...sourceReferences(spec.source),
    ...ref("spec.destination.clickhouse.credentialsSecretRef", spec.destination.clickhouse.credentialsSecretRef, USER_PASSWORD),
  ];
}
