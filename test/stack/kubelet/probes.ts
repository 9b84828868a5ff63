import { execFile } from "node:child_process";
import { request } from "node:http";
import { connect } from "node:net";
import type { V1Container, V1Probe } from "@kubernetes/client-node";

/**
 * One probe attempt against a container running on the host. Ports named or numbered in
 * the probe are the container's ports, reached on 127.0.0.1 through their host ports.
 */

export interface ProbeTarget {
  readonly container: V1Container;
  readonly hostPorts: ReadonlyMap<number, number>;
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
}

/** Probe port (number or a containerPort name) → host port. */
export function probeHostPort(port: number | string, target: ProbeTarget): number {
  const containerPort =
    typeof port === "number" || /^\d+$/.test(port) ? Number(port) : target.container.ports?.find((p) => p.name === port)?.containerPort;
  if (containerPort === undefined) throw new Error(`probe port "${port}" is not a port of container ${target.container.name}`);
  return target.hostPorts.get(containerPort) ?? containerPort;
}

function httpProbe(port: number, path: string, headers: Record<string, string>, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path, method: "GET", headers, timeout: timeoutMs }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve(status >= 200 && status < 400);
    });
    req.on("timeout", () => req.destroy(new Error("probe timeout")));
    req.on("error", () => resolve(false));
    req.end();
  });
}

function tcpProbe(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port, timeout: timeoutMs });
    socket.on("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("timeout", () => {
      socket.destroy();
      resolve(false);
    });
    socket.on("error", () => resolve(false));
  });
}

function execProbe(command: string[], target: ProbeTarget, timeoutMs: number): Promise<boolean> {
  const [file, ...args] = command;
  if (file === undefined) return Promise.resolve(false);
  return new Promise((resolve) => {
    execFile(file, args, { cwd: target.cwd, env: { ...target.env }, timeout: timeoutMs }, (err) => resolve(err === null));
  });
}

/** True when the probe succeeds; a probe that cannot be reached counts as a failure, as in the kubelet. */
export function runProbe(probe: V1Probe, target: ProbeTarget): Promise<boolean> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.httpGet) {
    const headers: Record<string, string> = {};
    for (const h of probe.httpGet.httpHeaders ?? []) headers[h.name] = h.value;
    const port = probeHostPort(probe.httpGet.port, target);
    return httpProbe(port, probe.httpGet.path ?? "/", headers, timeoutMs);
  }
  if (probe.tcpSocket) return tcpProbe(probeHostPort(probe.tcpSocket.port, target), timeoutMs);
  if (probe.exec?.command) return execProbe(probe.exec.command, target, timeoutMs);
  return Promise.reject(new Error(`container ${target.container.name}: only httpGet, tcpSocket and exec probes are supported`));
}
