/**
 * An SSH bastion for the local stack: Debian's openssh-server (`/usr/sbin/sshd`, installed by
 * the machine image and `.ci/run`) on 127.0.0.1 with a host key and a client key made here,
 * key-only login for the current user, TCP forwarding on. CDC tests reach their database
 * through it (`sshTunnel`). Env: SSH_HOST, SSH_PORT, SSH_USER, SSH_PRIVATE_KEY_FILE.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { Client } from "ssh2";
import type { Component, StackContext } from "./component.js";
import { isAlive, previousPortOrFree, readPid, run, spawnDetached, stopProcess, waitFor } from "./process.js";

const SSHD = "/usr/sbin/sshd";
const pidName = "sshd";

function dirOf(ctx: StackContext): string {
  return join(ctx.stateDir, "sshd");
}

async function keys(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (const key of ["host_key", "client_key"]) {
    if (!existsSync(join(dir, key))) await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, key)]);
  }
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "client_key.pub")));
}

function config(dir: string, port: number): string {
  return [
    `ListenAddress 127.0.0.1`,
    `Port ${port}`,
    `HostKey ${join(dir, "host_key")}`,
    `PidFile ${join(dir, "sshd.pid")}`,
    `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PubkeyAuthentication yes",
    "PermitRootLogin prohibit-password",
    // The state dir's permissions are the checkout's, not a home directory's.
    "StrictModes no",
    "UsePAM no",
    "AllowTcpForwarding yes",
    "",
  ].join("\n");
}

function answers(port: number, privateKey: string): Promise<boolean> {
  return new Promise((resolve) => {
    const client = new Client();
    client.once("ready", () => {
      client.end();
      resolve(true);
    });
    client.once("error", () => resolve(false));
    client.connect({ host: "127.0.0.1", port, username: userInfo().username, privateKey, readyTimeout: 3_000 });
  });
}

export const sshd: Component = {
  name: "sshd",

  provision(ctx: StackContext): Promise<void> {
    if (!existsSync(SSHD)) throw new Error(`sshd: ${SSHD} is missing; install Debian's openssh-server`);
    ctx.log("sshd: Debian openssh-server available");
    return Promise.resolve();
  },

  async start(ctx: StackContext): Promise<Record<string, string>> {
    const dir = dirOf(ctx);
    await keys(dir);
    const port = await previousPortOrFree(ctx.previous?.SSH_PORT === undefined ? undefined : `ssh://x:${ctx.previous.SSH_PORT}`);
    writeFileSync(join(dir, "sshd_config"), config(dir, port));
    // sshd's privilege separation directory.
    mkdirSync("/run/sshd", { recursive: true });
    const pid = spawnDetached(ctx, pidName, SSHD, ["-D", "-e", "-f", join(dir, "sshd_config")]);
    const key = readFileSync(join(dir, "client_key"), "utf8");
    await waitFor(`sshd on 127.0.0.1:${port}`, async () => {
      if (!isAlive(pid)) throw new Error(`sshd exited during startup (see ${ctx.stateDir}/logs/${pidName}.log)`);
      return answers(port, key);
    }, 30_000, 200);
    ctx.log(`sshd: on 127.0.0.1:${port}`);
    return { SSH_HOST: "127.0.0.1", SSH_PORT: String(port), SSH_USER: userInfo().username, SSH_PRIVATE_KEY_FILE: join(dir, "client_key") };
  },

  async healthy(ctx: StackContext, env: Readonly<Record<string, string>>): Promise<boolean> {
    const port = Number(env.SSH_PORT);
    const file = env.SSH_PRIVATE_KEY_FILE;
    if (!port || file === undefined || !isAlive(readPid(ctx, pidName))) return false;
    return answers(port, readFileSync(file, "utf8"));
  },

  async stop(ctx: StackContext): Promise<void> {
    await stopProcess(ctx, pidName, 5_000);
  },
};
