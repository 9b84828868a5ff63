import { describe, expect, it } from "vitest";
import { parseCredentials, parseMultipart, parseRequest } from "./request.js";

describe("parseRequest", () => {
  it("separates reserved parameters, param_* and settings as clickhouse-js sends them", () => {
    const r = parseRequest(
      new URLSearchParams("query_id=q1&param_n=42&param_s=a%5Ctb&wait_end_of_query=1&date_time_input_format=best_effort&database=db&query=INSERT+INTO+t+FORMAT+JSONEachRow&session_id=s&session_timeout=120"),
    );
    expect(r.queryId).toBe("q1");
    expect(r.params).toEqual({ n: "42", s: "a\\tb" });
    expect([...r.settings]).toEqual([["date_time_input_format", "best_effort"]]);
    expect(r.database).toBe("db");
    expect(r.query).toBe("INSERT INTO t FORMAT JSONEachRow");
    expect([r.sessionId, r.sessionTimeoutSec]).toEqual(["s", 120]);
  });

  it("rejects a session timeout above the server's maximum", () => {
    expect(() => parseRequest(new URLSearchParams("session_timeout=7200"))).toThrow(/max_session_timeout/);
  });
});

describe("parseCredentials", () => {
  it("reads Basic auth, X-ClickHouse headers and defaults to the default user", () => {
    const basic = `Basic ${Buffer.from("alice:p:w").toString("base64")}`;
    expect(parseCredentials({ authorization: basic }, new URLSearchParams())).toEqual({ user: "alice", password: "p:w" });
    expect(parseCredentials({ "x-clickhouse-user": "bob", "x-clickhouse-key": "k" }, new URLSearchParams())).toEqual({ user: "bob", password: "k" });
    expect(parseCredentials({}, new URLSearchParams())).toEqual({ user: "default", password: "" });
  });
});

describe("parseMultipart", () => {
  it("reads query and param_* parts of clickhouse-js's multipart body", () => {
    const b = "----clickhouse-js-x";
    const body = `--${b}\r\nContent-Disposition: form-data; name="query"\r\n\r\nSELECT {v:Array(String)}\r\n--${b}\r\nContent-Disposition: form-data; name="param_v"\r\n\r\n['a','b']\r\n--${b}--\r\n`;
    const parts = parseMultipart(Buffer.from(body), `multipart/form-data; boundary=${b}`);
    expect([...parts]).toEqual([
      ["query", "SELECT {v:Array(String)}"],
      ["param_v", "['a','b']"],
    ]);
  });
});
