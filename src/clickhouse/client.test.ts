import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { CONSUMER_CLIENT_OPTIONS, createClickHouseClient, PINNED_SETTINGS, quoteIdent, quoteString, type ClickHouseClientOptions } from "./client.js";

describe("quoteIdent", () => {
  it("backtick-quotes and escapes identifiers", () => {
    expect(quoteIdent("events")).toBe("`events`");
    expect(quoteIdent("we`ird\\name")).toBe("`we\\`ird\\\\name`");
  });
});

describe("quoteString", () => {
  it("single-quotes and escapes literals", () => {
    expect(quoteString("it's")).toBe("'it\\'s'");
    expect(quoteString("a\\b")).toBe("'a\\\\b'");
  });
});

interface SeenRequest {
  readonly params: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
}

/** Sends one INSERT through a client with `options` to a local HTTP server and returns what the server saw. */
async function seenInsert(options: ClickHouseClientOptions): Promise<SeenRequest> {
  const seen: SeenRequest[] = [];
  const server = createServer((req, res) => {
    seen.push({ params: new URL(req.url ?? "/", "http://x").searchParams, headers: req.headers });
    req.resume();
    req.on("end", () => res.end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const client = createClickHouseClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, username: "u", password: "p" }, options);
  try {
    await client.insert({ table: "t", values: [{ a: 1 }], format: "JSONEachRow" });
  } finally {
    await client.close();
    await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
  }
  return seen[0] as SeenRequest;
}

describe("createClickHouseClient", () => {
  it("creates a client that can be closed without a server", async () => {
    const client = createClickHouseClient({ url: "http://127.0.0.1:1", username: "u", password: "p" });
    await expect(client.close()).resolves.toBeUndefined();
  });

  it("pins the settings the coercer and the commit order rely on, whatever the server's defaults", async () => {
    const { params } = await seenInsert({});
    for (const [name, value] of Object.entries(PINNED_SETTINGS)) expect(params.get(name), name).toBe(String(value));
    expect(params.get("date_time_input_format")).toBe("basic");
  });

  it("gzips by default and sends plain JSON with the consumer's options", async () => {
    const gzipped = await seenInsert({});
    expect(gzipped.headers["content-encoding"]).toBe("gzip");
    const plain = await seenInsert(CONSUMER_CLIENT_OPTIONS);
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.params.get("date_time_input_format")).toBe("basic");
  });
});
