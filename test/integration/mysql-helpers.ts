import { mkdtempSync, writeFileSync } from "node:fs";
import type { ClickHouseClient } from "@clickhouse/client";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Connection, createConnection } from "mysql2/promise";
import { stringify } from "yaml";
import { adminUser } from "../stack/mariadb.js";
import type { StackEnv } from "./ingest-helpers.js";

/** A connection to the stack's MariaDB as its replication user (which may also create test tables). */
export function mysqlConnection(env: StackEnv, database?: string): Promise<Connection> {
  return createConnection({
    host: env.MYSQL_HOST,
    port: Number(env.MYSQL_PORT),
    user: env.MYSQL_USER,
    password: env.MYSQL_PASSWORD,
    multipleStatements: true,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    ...(database === undefined ? {} : { database }),
  });
}

export interface MysqlPipeOptions {
  readonly name: string;
  readonly database: string;
  readonly tables: readonly { readonly sourceSchemaName: string; readonly sourceTable: string; readonly targetTable: string; readonly excludedColumns?: string[] }[];
  readonly settings?: Record<string, unknown>;
  readonly source?: Record<string, unknown>;
  readonly pipeSettings?: Record<string, unknown>;
  readonly secrets?: Record<string, Record<string, string>>;
}

/** The ClickPipe document of a MySQL pipe to the stack's ClickHouse (and its Secrets). */
export function mysqlPipeDocs(env: StackEnv, o: MysqlPipeOptions): Record<string, unknown>[] {
  const pipe = {
    apiVersion: "clickpipes.io/v1alpha1",
    kind: "ClickPipe",
    metadata: { name: o.name, namespace: "test" },
    spec: {
      source: {
        mysql: {
          host: env.MYSQL_HOST,
          port: Number(env.MYSQL_PORT),
          credentialsSecretRef: { name: "mysql-creds" },
          settings: { ...o.settings },
          tableMappings: o.tables,
          ...o.source,
        },
      },
      destination: { clickhouse: { url: env.CLICKHOUSE_URL, credentialsSecretRef: { name: "ch-admin" } }, database: o.database },
      settings: { streamingMaxInsertWaitTime: "500ms", ...o.pipeSettings },
    },
  };
  const secrets = {
    "ch-admin": { username: env.CLICKHOUSE_USER ?? "", password: env.CLICKHOUSE_PASSWORD ?? "" },
    "mysql-creds": { username: env.MYSQL_USER ?? "", password: env.MYSQL_PASSWORD ?? "" },
    ...o.secrets,
  };
  return [pipe, ...Object.entries(secrets).map(([name, stringData]) => ({ apiVersion: "v1", kind: "Secret", metadata: { name }, stringData }))];
}

/** A `clickpipes run` file for a MySQL pipe. */
export function writeMysqlPipeFile(env: StackEnv, o: MysqlPipeOptions): string {
  const file = join(mkdtempSync(join(tmpdir(), "mysql-pipe-")), "pipe.yaml");
  writeFileSync(file, mysqlPipeDocs(env, o).map((d) => stringify(d)).join("---\n"));
  return file;
}

/** The server's all-privilege account over its socket (to change server settings and make users a test needs). */
export function mysqlAdmin(env: StackEnv): Promise<Connection> {
  return createConnection({ socketPath: env.MYSQL_SOCKET, user: adminUser(), multipleStatements: true });
}

/** afterAll of the MySQL suites: drop the test's ClickHouse and MariaDB databases and close both clients. */
export async function dropTestDatabases(ch: ClickHouseClient, my: Connection, clickhouseDb: string, mysqlDb: string): Promise<void> {
  await ch.command({ query: `DROP DATABASE IF EXISTS ${clickhouseDb}` });
  await my.query(`DROP DATABASE IF EXISTS ${mysqlDb}`);
  await my.end();
  await ch.close();
}
