import { describe, expect, it } from "vitest";
import { gtidAvailable, settingProblems } from "./checks.js";

const ready = { version: "10.11.19-MariaDB-log", logBin: "ON", binlogFormat: "ROW", binlogRowImage: "FULL", binlogRowMetadata: "FULL" };

describe("settingProblems", () => {
  it("accepts a row-based binlog with full images and metadata", () => {
    expect(settingProblems(ready)).toEqual([]);
  });

  it("says what to change for each wrong setting", () => {
    expect(settingProblems({ ...ready, binlogFormat: "MIXED", binlogRowImage: "MINIMAL", binlogRowMetadata: "NO_LOG" })).toEqual([
      "binlog_format is MIXED: set binlog_format=ROW",
      "binlog_row_image is MINIMAL: set binlog_row_image=FULL",
      "binlog_row_metadata is NO_LOG: set binlog_row_metadata=FULL",
    ]);
    expect(settingProblems({ ...ready, logBin: "OFF" })[0]).toMatch(/--log-bin/);
  });

  it("does not ask for binlog_row_metadata where the server has no such setting", () => {
    const { binlogRowMetadata: _unused, ...old } = ready;
    expect(settingProblems(old)).toEqual([]);
  });
});

describe("gtidAvailable", () => {
  it("is always true on MariaDB and follows gtid_mode on MySQL", () => {
    expect(gtidAvailable({ version: "10.11.19-MariaDB" })).toBe(true);
    expect(gtidAvailable({ version: "8.4.3", gtidMode: "ON" })).toBe(true);
    expect(gtidAvailable({ version: "8.4.3", gtidMode: "OFF" })).toBe(false);
  });
});
