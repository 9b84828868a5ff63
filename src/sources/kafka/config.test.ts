import { describe, expect, it } from "vitest";
import { KafkaSourceSchema } from "../../api/index.js";
import { ConfigError } from "../../ingest/errors.js";
import { secretsFromDocuments } from "../../ingest/secrets.js";
import { kafkaClientConfig } from "./config.js";

const secrets = secretsFromDocuments([
  { metadata: { name: "creds" }, stringData: { username: "alice", password: "s3cret" } },
  { metadata: { name: "ca" }, stringData: { "ca.crt": "-----BEGIN CERTIFICATE-----" } },
  { metadata: { name: "client" }, data: { "tls.crt": Buffer.from("CERT").toString("base64"), "tls.key": Buffer.from("KEY").toString("base64") } },
]);

const spec = (fields: Record<string, unknown>): ReturnType<typeof KafkaSourceSchema.parse> =>
  KafkaSourceSchema.parse({ brokers: "b1:9092, b2:9092", topics: "t", ...fields });

describe("Kafka client config", () => {
  it("connects in plaintext without authentication by default, to every broker", () => {
    const config = kafkaClientConfig(spec({}), secrets, "c");
    expect(config.brokers).toEqual(["b1:9092", "b2:9092"]);
    expect(config.ssl).toBeUndefined();
    expect(config.sasl).toBeUndefined();
  });

  it("maps SCRAM-SHA-512 with a CA to SASL over TLS trusting that CA", () => {
    const config = kafkaClientConfig(
      spec({ authentication: "SCRAM-SHA-512", credentialsSecretRef: { name: "creds" }, caCertificateSecretRef: { name: "ca" } }),
      secrets,
      "c",
    );
    expect(config.sasl).toEqual({ mechanism: "scram-sha-512", username: "alice", password: "s3cret" });
    expect(config.ssl).toEqual({ rejectUnauthorized: true, ca: ["-----BEGIN CERTIFICATE-----"] });
  });

  it("presents the client certificate for MUTUAL_TLS", () => {
    const config = kafkaClientConfig(spec({ authentication: "MUTUAL_TLS", clientCertificateSecretRef: { name: "client" } }), secrets, "c");
    expect(config.ssl).toMatchObject({ cert: "CERT", key: "KEY" });
    expect(config.sasl).toBeUndefined();
  });

  it("uses Event Hubs' $ConnectionString user with SASL PLAIN over TLS", () => {
    const config = kafkaClientConfig(spec({ type: "azureeventhub", credentialsSecretRef: { name: "creds" } }), secrets, "c");
    expect(config.sasl).toEqual({ mechanism: "plain", username: "$ConnectionString", password: "s3cret" });
    expect(config.ssl).toEqual({ rejectUnauthorized: true });
  });

  it("turns TLS on by default for Confluent Cloud, MSK and WarpStream", () => {
    for (const type of ["confluent", "msk", "warpstream"]) {
      expect(kafkaClientConfig(spec({ type }), secrets, "c").ssl).toEqual({ rejectUnauthorized: true });
    }
    expect(kafkaClientConfig(spec({ type: "redpanda" }), secrets, "c").ssl).toBeUndefined();
  });

  it("says clearly that MSK IAM is not supported and what to use instead", () => {
    expect(() => kafkaClientConfig(spec({ type: "msk", authentication: "IAM_ROLE", iamRole: "arn:aws:iam::123456789012:role/x" }), secrets, "c")).toThrow(
      ConfigError,
    );
    expect(() => kafkaClientConfig(spec({ type: "msk", authentication: "IAM_ROLE", iamRole: "arn:aws:iam::123456789012:role/x" }), secrets, "c")).toThrow(
      /not supported.*SCRAM-SHA-512/,
    );
  });

  it("names the Secret and key that are missing", () => {
    expect(() => kafkaClientConfig(spec({ authentication: "PLAIN", credentialsSecretRef: { name: "nope" } }), secrets, "c")).toThrow(
      /Secret "nope" is referenced but not in the file/,
    );
    expect(() => kafkaClientConfig(spec({ caCertificateSecretRef: { name: "creds" } }), secrets, "c")).toThrow(/Secret "creds" has no key "ca.crt"/);
  });
});
