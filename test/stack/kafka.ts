// Finding, kafkajs 2.2.4 against this Kafka 4.3.1 broker: it works. kafkajs picks each API's
// version from ApiVersions and its highest ones (Produce v7, Fetch v11, classic JoinGroup/
// SyncGroup/OffsetCommit/OffsetFetch, ListOffsets, SaslHandshake v1 + SaslAuthenticate) are all
// above the floors Kafka 4 raised in KIP-896. Checked: produce (plain, gzip, transactional),
// group consume with manual commits, admin createTopics, fetchOffsets, fetchTopicOffsets,
// fetchTopicOffsetsByTimestamp, setOffsets, resetOffsets, describe/alterConfigs,
// createPartitions, deleteTopicRecords, deleteGroups; SASL PLAIN, SCRAM-SHA-256/512 over
// plaintext and TLS, SSL and mTLS. Limits: kafkajs speaks only the classic group protocol
// (not KIP-848's), which 4.x still serves; right after createTopics a first produce may see
// NOT_LEADER_OR_FOLLOWER once, which kafkajs retries. So the stack runs 4.3.1, what users run.
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import type { Component, StackContext } from "./component.js";
import { buildLog4j2Properties, buildServerProperties, kafkaUsers, portEnvKeys, previousPorts, scramFormatArgs, type KafkaPorts } from "./kafka-config.js";
import { cdsArchivePath, cdsArchiveUsable } from "./kafka-cds.js";
import { kafkaLibDir, provisionKafkaJars } from "./kafka-provision.js";
import { ensureKafkaTls, kafkaTlsFiles } from "./kafka-tls.js";
import { freePort, isAlive, portIsFree, readPid, run, sleep, spawnDetached, stopProcess } from "./process.js";

export const kafkaVersion = "4.3.1";
const pidName = "kafka";
const readyTimeoutMs = 180_000;

/**
 * C1 only and the serial collector: measured here, broker startup CPU drops from ~7.7 s to
 * ~4.3 s (the machine is 2 cores shared with the whole suite) and RSS from ~390 to ~350 MB,
 * while the broker's own work (copying bytes between sockets and its log) barely notices.
 */
const jvmOptions = ["-Xmx512m", "-Xms256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true"];

interface KafkaPaths {
  readonly home: string;
  readonly data: string;
  readonly serverProperties: string;
  readonly log4j: string;
  readonly log: string;
}

function paths(ctx: StackContext): KafkaPaths {
  const home = join(ctx.stateDir, "kafka");
  return {
    home,
    data: join(home, "data"),
    serverProperties: join(home, "server.properties"),
    log4j: join(home, "log4j2.properties"),
    log: join(ctx.stateDir, "logs", `${pidName}.log`),
  };
}

function tlsDir(ctx: StackContext): string {
  return join(ctx.stateDir, "kafka", "tls");
}


/** The previous ports when all are still free (a restarted broker keeps its address), else fresh ones. */
async function choosePorts(ctx: StackContext): Promise<KafkaPorts> {
  const previous = previousPorts(ctx.previous);
  if (previous !== undefined) {
    const free = await Promise.all(Object.values(previous).map((p: number) => portIsFree(p)));
    if (free.every(Boolean)) return previous;
    ctx.log(`kafka: a previous port is taken by another process; choosing new ports`);
  }
  const ports: KafkaPorts = {
    plaintext: await freePort(),
    controller: await freePort(),
    saslPlaintext: await freePort(),
    ssl: await freePort(),
    saslSsl: await freePort(),
    mtls: await freePort(),
  };
  if (new Set(Object.values(ports)).size !== Object.values(ports).length) return choosePorts(ctx);
  return ports;
}

/** A Kafka-style cluster id (16 random bytes, base64url); Kafka rejects ids starting with '-'. */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

function kafkaHome(ctx: StackContext): string {
  return join(ctx.cacheDir, `kafka-${kafkaVersion}`);
}

function javaClasspath(ctx: StackContext): string {
  return `${kafkaLibDir(ctx, kafkaVersion)}/*`;
}

/** Format the KRaft storage once; the data dir (topics, offsets, SCRAM users) is kept across restarts. */
async function formatStorageOnce(ctx: StackContext, p: KafkaPaths, sharedArchive: readonly string[]): Promise<void> {
  if (existsSync(join(p.data, "meta.properties"))) return;
  ctx.log("kafka: formatting KRaft storage and seeding SCRAM users");
  mkdirSync(p.data, { recursive: true });
  const args = [...jvmOptions, ...sharedArchive, `-Dlog4j2.configurationFile=${p.log4j}`, "-cp", javaClasspath(ctx), "kafka.tools.StorageTool"];
  await run("java", [...args, "format", "-t", clusterId(), "-c", p.serverProperties, "--ignore-formatted", ...scramFormatArgs()], { cwd: p.home });
}

function logTail(file: string): string {
  return existsSync(file) ? readFileSync(file, "utf8").slice(-3000) : "(no log)";
}

async function describeCluster(brokers: string): Promise<boolean> {
  const admin = new Kafka({ clientId: "stack-ready", brokers: [brokers], logLevel: logLevel.NOTHING, connectionTimeout: 2000, retry: { retries: 0 } }).admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } finally {
    await admin.disconnect();
  }
}

/** Wait for the broker to answer an admin request, failing fast (with its log) if the JVM exits. */
async function waitReady(ctx: StackContext, pid: number, brokers: string, log: string): Promise<void> {
  const t0 = Date.now();
  let lastReport = t0;
  let lastError = "";
  while (Date.now() - t0 < readyTimeoutMs) {
    if (!isAlive(pid)) throw new Error(`kafka: broker exited during startup; log tail:\n${logTail(log)}`);
    try {
      if (await describeCluster(brokers)) return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() - lastReport >= 4000) {
      lastReport = Date.now();
      ctx.log(`kafka: waiting for the broker on ${brokers} (${Math.round((Date.now() - t0) / 1000)} s)`);
    }
    await sleep(300);
  }
  throw new Error(`kafka: broker on ${brokers} not ready after ${readyTimeoutMs} ms (last error: ${lastError}); log tail:\n${logTail(log)}`);
}

function brokerEnv(ctx: StackContext, ports: KafkaPorts): Record<string, string> {
  const tls = kafkaTlsFiles(tlsDir(ctx));
  const env: Record<string, string> = {};
  for (const [key, envKey] of Object.entries(portEnvKeys) as [keyof KafkaPorts, string][]) env[envKey] = `127.0.0.1:${ports[key]}`;
  return {
    ...env,
    KAFKA_CA_FILE: tls.caPem,
    KAFKA_CLIENT_CERT_FILE: tls.clientCert,
    KAFKA_CLIENT_KEY_FILE: tls.clientKey,
    KAFKA_PLAIN_USER: kafkaUsers.plain.name,
    KAFKA_PLAIN_PASSWORD: kafkaUsers.plain.password,
    KAFKA_SCRAM256_USER: kafkaUsers.scram256.name,
    KAFKA_SCRAM256_PASSWORD: kafkaUsers.scram256.password,
    KAFKA_SCRAM512_USER: kafkaUsers.scram512.name,
    KAFKA_SCRAM512_PASSWORD: kafkaUsers.scram512.password,
    KAFKA_VERSION: kafkaVersion,
  };
}

function tcpConnects(hostPort: string, timeoutMs: number): Promise<boolean> {
  const [host, port] = hostPort.split(":");
  return new Promise((resolve) => {
    const socket = connect({ host: host ?? "127.0.0.1", port: Number(port), timeout: timeoutMs });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("timeout", () => done(false));
    socket.once("error", () => done(false));
  });
}

/** Write the broker's config, format storage on first use, spawn the JVM and wait until it answers. */
async function launch(ctx: StackContext, sharedArchive: readonly string[], recordArchive: readonly string[] = []): Promise<Record<string, string>> {
  const p = paths(ctx);
  mkdirSync(p.home, { recursive: true });
  const tls = await ensureKafkaTls(tlsDir(ctx));
  const ports = await choosePorts(ctx);
  writeFileSync(p.serverProperties, buildServerProperties(ports, p.data, tls));
  writeFileSync(p.log4j, buildLog4j2Properties());
  await formatStorageOnce(ctx, p, sharedArchive);
  const args = [...jvmOptions, ...sharedArchive, ...recordArchive, `-Dlog4j2.configurationFile=${p.log4j}`, "-cp", javaClasspath(ctx), "kafka.Kafka", p.serverProperties];
  // cwd is where a JVM crash report would land: the broker's state dir, not the checkout.
  const pid = spawnDetached(ctx, pidName, "java", args, { cwd: p.home });
  const env = brokerEnv(ctx, ports);
  await waitReady(ctx, pid, env.KAFKA_BROKERS ?? "", p.log);
  return env;
}

/**
 * Record the classes a broker loads into a CDS archive once, from a throwaway broker that
 * starts, answers and shuts down cleanly (the JVM writes the archive on exit). Measured
 * here, later starts then take ~2.5 s of CPU instead of ~4 s and ~30 MB less RSS, which
 * matters for the fault suites that restart the broker on a shared 2-core machine.
 */
async function trainCdsArchive(ctx: StackContext): Promise<void> {
  const archive = await cdsArchivePath(kafkaHome(ctx), jvmOptions);
  if (existsSync(archive)) return;
  ctx.log("kafka: recording a class-data archive for faster broker starts (once)");
  const scratch = mkdtempSync(join(tmpdir(), "kafka-cds-"));
  const pending = join(scratch, "broker.jsa");
  const trainer: StackContext = { ...ctx, stateDir: scratch, previous: undefined };
  try {
    await launch(trainer, [], [`-XX:ArchiveClassesAtExit=${pending}`]);
    await stopProcess(trainer, pidName, 60_000);
    if (existsSync(pending) && (await cdsArchiveUsable(pending, javaClasspath(ctx), jvmOptions, scratch))) {
      copyFileSync(pending, `${archive}.tmp`);
      renameSync(`${archive}.tmp`, archive);
    } else {
      ctx.log(`kafka: the JVM wrote no usable class-data archive; brokers start without one`);
    }
  } finally {
    await stopProcess(trainer, pidName);
    rmSync(scratch, { recursive: true, force: true });
  }
}

export const kafka: Component = {
  name: "kafka",

  async provision(ctx: StackContext): Promise<void> {
    await provisionKafkaJars(ctx, kafkaVersion);
    await ensureKafkaTls(tlsDir(ctx));
    await trainCdsArchive(ctx);
  },

  async start(ctx: StackContext): Promise<Record<string, string>> {
    const archive = await cdsArchivePath(kafkaHome(ctx), jvmOptions);
    return launch(ctx, existsSync(archive) ? [`-XX:SharedArchiveFile=${archive}`] : []);
  },

  async healthy(ctx: StackContext, env: Readonly<Record<string, string>>): Promise<boolean> {
    const brokers = env.KAFKA_BROKERS;
    if (brokers === undefined || !isAlive(readPid(ctx, pidName))) return false;
    return tcpConnects(brokers, 2000);
  },

  async stop(ctx: StackContext): Promise<void> {
    // A single KRaft node's controlled shutdown usually takes a few seconds; give it room before SIGKILL.
    await stopProcess(ctx, pidName, 30_000);
  },
};
