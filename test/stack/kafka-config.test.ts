import { describe, expect, it } from "vitest";
import { buildServerProperties, previousPorts, scramFormatArgs, type KafkaPorts } from "./kafka-config.js";
import { kafkaTlsFiles } from "./kafka-tls.js";

const ports: KafkaPorts = { plaintext: 9092, controller: 9093, saslPlaintext: 9094, ssl: 9095, saslSsl: 9096, mtls: 9097 };

function properties(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) map.set(line.slice(0, i), line.slice(i + 1));
  }
  return map;
}

describe("previousPorts", () => {
  const env = {
    KAFKA_BROKERS: "127.0.0.1:9092",
    KAFKA_CONTROLLER: "127.0.0.1:9093",
    KAFKA_SASL_PLAINTEXT_BROKERS: "127.0.0.1:9094",
    KAFKA_SSL_BROKERS: "127.0.0.1:9095",
    KAFKA_SASL_SSL_BROKERS: "127.0.0.1:9096",
    KAFKA_MTLS_BROKERS: "127.0.0.1:9097",
  };

  it("reads back every listener port the broker published", () => {
    expect(previousPorts(env)).toEqual(ports);
  });

  it("gives up (fresh ports) when any listener is missing, so a partial env never mixes old and new", () => {
    const { KAFKA_MTLS_BROKERS: _dropped, ...partial } = env;
    expect(previousPorts(partial)).toBeUndefined();
    expect(previousPorts(undefined)).toBeUndefined();
  });
});

describe("buildServerProperties", () => {
  const props = properties(buildServerProperties(ports, "/data", kafkaTlsFiles("/tls")));

  it("advertises every client listener on loopback but not the controller", () => {
    expect(props.get("advertised.listeners")).toBe(
      "PLAINTEXT://127.0.0.1:9092,SASL_PLAINTEXT://127.0.0.1:9094,SSL://127.0.0.1:9095,SASL_SSL://127.0.0.1:9096,MTLS://127.0.0.1:9097",
    );
    expect(props.get("controller.quorum.voters")).toBe("1@127.0.0.1:9093");
  });

  it("requires a client certificate on the mTLS listener only", () => {
    expect(props.get("listener.name.mtls.ssl.client.auth")).toBe("required");
    expect(props.get("ssl.client.auth")).toBe("none");
    expect(props.get("listener.security.protocol.map")).toContain("MTLS:SSL");
  });

  it("enables PLAIN and both SCRAM mechanisms on both SASL listeners", () => {
    for (const l of ["sasl_plaintext", "sasl_ssl"]) {
      expect(props.get(`listener.name.${l}.sasl.enabled.mechanisms`)).toBe("PLAIN,SCRAM-SHA-256,SCRAM-SHA-512");
      expect(props.get(`listener.name.${l}.scram-sha-512.sasl.jaas.config`)).toContain("ScramLoginModule");
      expect(props.get(`listener.name.${l}.plain.sasl.jaas.config`)).toContain('user_plain-user="plain-secret"');
    }
  });

  it("keeps a single node workable: replication factors 1 and no initial rebalance delay", () => {
    expect(props.get("offsets.topic.replication.factor")).toBe("1");
    expect(props.get("transaction.state.log.replication.factor")).toBe("1");
    expect(props.get("group.initial.rebalance.delay.ms")).toBe("0");
  });
});

describe("scramFormatArgs", () => {
  it("seeds one user per SCRAM mechanism in StorageTool's syntax", () => {
    expect(scramFormatArgs()).toEqual([
      "--add-scram",
      "SCRAM-SHA-256=[name=scram256-user,password=scram256-secret]",
      "--add-scram",
      "SCRAM-SHA-512=[name=scram512-user,password=scram512-secret]",
    ]);
  });
});
