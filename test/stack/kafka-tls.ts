import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "./process.js";

/** Password of the broker's PKCS12 keystore and truststore (test material, never secret). */
export const storePassword = "stack-store-secret";

export interface KafkaTlsFiles {
  readonly dir: string;
  /** CA certificate (PEM) that Node clients trust. */
  readonly caPem: string;
  /** Broker key + certificate (SAN DNS:localhost, IP:127.0.0.1) and the CA chain, PKCS12. */
  readonly keystore: string;
  /** The CA as a trusted entry, PKCS12: the broker checks mTLS client certificates against it. */
  readonly truststore: string;
  /** Client certificate (PEM) signed by the CA, for the mTLS listener. */
  readonly clientCert: string;
  /** Client private key (PEM, unencrypted). */
  readonly clientKey: string;
}

export function kafkaTlsFiles(dir: string): KafkaTlsFiles {
  return {
    dir,
    caPem: join(dir, "ca.pem"),
    keystore: join(dir, "broker.p12"),
    truststore: join(dir, "truststore.p12"),
    clientCert: join(dir, "client.pem"),
    clientKey: join(dir, "client.key"),
  };
}

function allPresent(files: KafkaTlsFiles): boolean {
  return [files.caPem, files.keystore, files.truststore, files.clientCert, files.clientKey].every((f) => existsSync(f));
}

/**
 * Generate the CA, the broker keystore, the truststore and an mTLS client certificate once.
 * Kept across restarts so clients configured with KAFKA_CA_FILE stay valid; a partial set
 * (an interrupted earlier run) is regenerated whole so every file chains to the same CA.
 */
export async function ensureKafkaTls(dir: string): Promise<KafkaTlsFiles> {
  const files = kafkaTlsFiles(dir);
  if (allPresent(files)) return files;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const p = (name: string): string => join(dir, name);
  const days = "3650";

  await run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p("ca.key"), "-out", files.caPem, "-days", days, "-subj", "/CN=clickpipes-stack-ca"]);

  writeFileSync(p("broker.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n");
  await run("openssl", ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", p("broker.key"), "-out", p("broker.csr"), "-subj", "/CN=localhost"]);
  await signWithCa(files, p("broker.csr"), p("broker.pem"), p("broker.ext"), days);
  await run("openssl", ["pkcs12", "-export", "-in", p("broker.pem"), "-inkey", p("broker.key"), "-certfile", files.caPem, "-name", "broker", "-out", files.keystore, "-passout", `pass:${storePassword}`]);
  await run("keytool", ["-importcert", "-noprompt", "-alias", "stack-ca", "-file", files.caPem, "-keystore", files.truststore, "-storetype", "PKCS12", "-storepass", storePassword]);

  writeFileSync(p("client.ext"), "extendedKeyUsage=clientAuth\n");
  await run("openssl", ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", files.clientKey, "-out", p("client.csr"), "-subj", "/CN=clickpipes-client"]);
  await signWithCa(files, p("client.csr"), files.clientCert, p("client.ext"), days);
  return files;
}

async function signWithCa(files: KafkaTlsFiles, csr: string, out: string, extFile: string, days: string): Promise<void> {
  const caKey = join(files.dir, "ca.key");
  await run("openssl", ["x509", "-req", "-in", csr, "-CA", files.caPem, "-CAkey", caKey, "-CAcreateserial", "-out", out, "-days", days, "-extfile", extFile]);
}
