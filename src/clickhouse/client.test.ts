import { describe, expect, it } from "vitest";
import { createClickHouseClient, quoteIdent, quoteString } from "./client.js";

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

describe("createClickHouseClient", () => {
  it("creates a client that can be closed without a server", async () => {
    const client = createClickHouseClient({ url: "http://127.0.0.1:1", username: "u", password: "p" });
    await expect(client.close()).resolves.toBeUndefined();
  });
});
