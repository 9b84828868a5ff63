import { describe, expect, it } from "vitest";
import { ConfigError } from "../../ingest/errors.js";
import { mysqlError, mysqlRetriable } from "./errors.js";

const withCode = (message: string, code: string, errno: number): Error => Object.assign(new Error(message), { code, errno });

describe("mysqlRetriable", () => {
  it("retries a lost connection, not denied access, a purged binlog or an event MySQL 8 compressed", () => {
    expect(mysqlRetriable(withCode("Connection lost", "PROTOCOL_CONNECTION_LOST", 0))).toBe(true);
    expect(mysqlRetriable(withCode("connect ECONNREFUSED", "ECONNREFUSED", -111))).toBe(true);
    expect(mysqlRetriable(withCode("Access denied", "ER_ACCESS_DENIED_ERROR", 1045))).toBe(false);
    expect(mysqlRetriable(withCode("Could not find first log file name in binary log index file", "ER_MASTER_FATAL_ERROR_READING_BINLOG", 1236))).toBe(false);
    expect(mysqlRetriable(new Error("Server sent a TRANSACTION_PAYLOAD_EVENT (binlog_transaction_compression=ON). zongji cannot decode ..."))).toBe(false);
    expect(mysqlRetriable(new ConfigError("bad"))).toBe(false);
  });

  it("says what was being done, and hints at a resync for a purged binlog", () => {
    const err = mysqlError("read the binlog", withCode("gone", "ER_MASTER_FATAL_ERROR_READING_BINLOG", 1236));
    expect(err.message).toBe("MySQL: cannot read the binlog: gone (the binlog the pipe resumes from is gone: resync the pipe)");
    expect(err.retriable).toBe(false);
    expect(err.context).toEqual({ code: "ER_MASTER_FATAL_ERROR_READING_BINLOG" });
  });
});
