import { execFileSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";

/**
 * The slice of the kubelet API that `kubectl logs` needs: the apiserver proxies
 * GET /containerLogs/{namespace}/{pod}/{container} to the node's InternalIP and the
 * kubelet port from the Node's status.daemonEndpoints. Every run of a container is in one
 * file, so `--previous` shows the same text as the current run.
 */

export interface LogServerOptions {
  readonly port: number;
  readonly logDir: string;
  /** Directory of `<ns>_<pod>_<container>.pid` files kept while a container runs. */
  readonly pidDir: string;
  readonly certDir: string;
}

/** A self-signed serving cert; the apiserver does not verify kubelet certs unless told to. */
function servingCert(dir: string): { cert: string; key: string } {
  const cert = join(dir, "kubelet.crt");
  const key = join(dir, "kubelet.key");
  if (!existsSync(cert) || !existsSync(key)) {
    mkdirSync(dir, { recursive: true });
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "3650", "-subj", "/CN=local-node", "-addext", "subjectAltName=IP:127.0.0.1"], {
      stdio: "ignore",
    });
  }
  return { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") };
}

/** The last `lines` lines of `text` (all of it when lines is undefined). */
export function tailLines(text: string, lines: number | undefined): string {
  if (lines === undefined) return text;
  if (lines <= 0) return "";
  const parts = text.split("\n");
  const trailingNewline = parts[parts.length - 1] === "";
  const body = trailingNewline ? parts.slice(0, -1) : parts;
  return body.slice(-lines).join("\n") + (trailingNewline && body.length > 0 ? "\n" : "");
}

function readFrom(file: string, offset: number): Buffer {
  const size = statSync(file).size;
  if (size <= offset) return Buffer.alloc(0);
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** Stream what the container appends until it stops running (as `kubectl logs -f` ends when the container exits). */
function follow(res: ServerResponse, file: string, pidFile: string, start: number): void {
  let offset = start;
  let stoppedFor = 0;
  const timer = setInterval(() => {
    const chunk = readFrom(file, offset);
    offset += chunk.length;
    if (chunk.length > 0) res.write(chunk);
    stoppedFor = existsSync(pidFile) ? 0 : stoppedFor + 1;
    if (stoppedFor >= 4) {
      clearInterval(timer);
      res.end();
    }
  }, 500);
  res.on("close", () => clearInterval(timer));
}

function handle(req: IncomingMessage, res: ServerResponse, opts: LogServerOptions): void {
  const url = new URL(req.url ?? "/", "https://kubelet");
  if (url.pathname === "/healthz") {
    res.end("ok");
    return;
  }
  const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
  if (!m) {
    res.writeHead(404).end("the test kubelet serves only /containerLogs and /healthz\n");
    return;
  }
  const [ns, pod, container] = [m[1], m[2], m[3]].map((s) => decodeURIComponent(s ?? ""));
  const base = `${ns}_${pod}_${container}`;
  const file = join(opts.logDir, `${base}.log`);
  if (!existsSync(file)) {
    res.writeHead(404).end(`no logs for container ${container} of pod ${ns}/${pod}\n`);
    return;
  }
  const tail = url.searchParams.get("tailLines");
  const text = readFileSync(file);
  res.writeHead(200, { "Content-Type": "text/plain" });
  res.write(tailLines(text.toString("utf8"), tail === null ? undefined : Number(tail)));
  if (url.searchParams.get("follow") === "true") follow(res, file, join(opts.pidDir, `${base}.pid`), text.length);
  else res.end();
}

export function startLogServer(opts: LogServerOptions): Promise<Server> {
  const server = createServer(servingCert(opts.certDir), (req, res) => handle(req, res, opts));
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", () => resolve(server));
  });
}
