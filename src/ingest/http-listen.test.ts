import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "./errors.js";
import { listenHttp, parseHttpPort } from "./http-listen.js";

const servers: Server[] = [];
const server = (): Server => {
  const s = createServer((_req, res) => res.end("ok"));
  servers.push(s);
  return s;
};
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
});

describe("listenHttp", () => {
  it("binds a free port for 0 and says which", async () => {
    const a = await listenHttp(server(), 0);
    const b = await listenHttp(server(), 0);
    expect(a).toBeGreaterThan(0);
    expect(b).not.toBe(a);
  });

  it("turns a taken port into a one-line ConfigError naming the port and the flag", async () => {
    const port = await listenHttp(server(), 0);
    const err = await listenHttp(server(), port).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toBe(`HTTP port ${port} is already in use: choose another with --http-port N (or CLICKPIPES_HTTP_PORT); --http-port 0 picks a free one`);
    expect((err as ConfigError).context).toEqual({ port });
  });
});

describe("parseHttpPort", () => {
  it("accepts 0 to 65535", () => {
    expect(parseHttpPort("0")).toBe(0);
    expect(parseHttpPort("65535")).toBe(65_535);
  });

  it.each(["-1", "65536", "80.5", "http", ""])("rejects %j naming the flag", (text) => {
    expect(() => parseHttpPort(text)).toThrow(/--http-port .* is not a port: use an integer from 0 to 65535/);
  });
});
