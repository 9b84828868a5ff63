import { describe, expect, it } from "vitest";
import { parseClickPipe } from "../../api/index.js";
import { targetAsBefore } from "./destination.js";
import { mysqlPlugin, replicaServerId } from "./plugin.js";

const pipe = (settings: Record<string, unknown> = {}): ReturnType<typeof parseClickPipe> =>
  parseClickPipe({
    apiVersion: "clickpipes.io/v1alpha1",
    kind: "ClickPipe",
    metadata: { name: "shop", namespace: "analytics" },
    spec: {
      source: {
        mysql: {
          host: "mysql.example.com",
          credentialsSecretRef: { name: "mysql" },
          settings,
          tableMappings: [
            { sourceSchemaName: "shop", sourceTable: "orders", targetTable: "shop_orders" },
            { sourceSchemaName: "shop", sourceTable: "users", targetTable: "shop_users" },
          ],
        },
      },
      destination: { clickhouse: { url: "http://ch:8123", credentialsSecretRef: { name: "ch" } }, database: "shop" },
    },
  });

describe("mysqlPlugin", () => {
  it("runs one consumer per pipe, continuous unless snapshot-only, positions in the checkpoint store", () => {
    expect(mysqlPlugin.capabilities(pipe().spec)).toEqual({ maxReplicas: 1, mode: "continuous", lagUnit: "ms", positions: "checkpointStore", replicaIdentity: "none", resync: true });
    expect(mysqlPlugin.capabilities(pipe({ replicationMode: "snapshot" }).spec)).toMatchObject({ mode: "oneShot", resync: false });
  });

  it("writes one table per mapping and reads the credentials Secret", () => {
    expect(mysqlPlugin.tables(pipe().spec)).toEqual(["shop_orders", "shop_users"]);
    expect(mysqlPlugin.secretReferences(pipe().spec).map((r) => r.name)).toEqual(["mysql"]);
    expect(pipe().spec.source.mysql?.settings.replicationMechanism).toBe("auto");
  });

  it("announces a stable replica server id per pipe, distinct between pipes", () => {
    expect(replicaServerId("analytics/shop@a")).toBe(replicaServerId("analytics/shop@a"));
    expect(replicaServerId("analytics/shop@a")).not.toBe(replicaServerId("analytics/shop@b"));
    expect(replicaServerId("x")).toBeGreaterThanOrEqual(0x1000_0000);
    expect(replicaServerId("x")).toBeLessThan(2 ** 32);
  });
});

describe("targetAsBefore", () => {
  it("describes an existing target table for the schema-change decision, leaving out the CDC columns", () => {
    const source = [{ name: "id", sourceType: "int", clickhouseType: "Int32", nullable: false }];
    expect(targetAsBefore([{ name: "id", type: "Int32" }, { name: "old", type: "Nullable(String)" }, { name: "_peerdb_version", type: "Int64" }], source)).toEqual([
      source[0],
      { name: "old", sourceType: "(ClickHouse Nullable(String))", clickhouseType: "Nullable(String)", nullable: true },
    ]);
  });
});
