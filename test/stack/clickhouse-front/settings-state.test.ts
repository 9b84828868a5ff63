import { describe, expect, it } from "vitest";
import { SettingsState, setStatement } from "./settings-state.js";

const engine = new Map([
  ["async_insert", "1"],
  ["max_threads", "auto(2)"],
  ["date_time_input_format", "best_effort"],
]);
const server = new Map([
  ["async_insert", "0"],
  ["date_time_input_format", "basic"],
]);

describe("SettingsState", () => {
  it("applies server defaults once, URL settings per query, and undoes them afterwards", () => {
    const s = new SettingsState(engine, server);
    const first = s.plan(s.desired(new Map()));
    expect([...first]).toEqual([...server]);
    s.commit(first);
    expect(s.plan(s.desired(new Map())).size).toBe(0);
    const withUrl = s.plan(s.desired(new Map([["max_threads", "1"]])));
    expect([...withUrl]).toEqual([["max_threads", "1"]]);
    s.commit(withUrl);
    expect([...s.plan(s.desired(new Map()))]).toEqual([["max_threads", "auto(2)"]]);
  });

  it("keeps a session's own SET values and re-asserts everything after a failed SET", () => {
    const s = new SettingsState(engine, server);
    s.commit(s.plan(s.desired(new Map())));
    s.observe(new Map([["date_time_input_format", "best_effort"]]), true);
    expect(s.plan(s.desired(new Map())).size).toBe(0);
    s.invalidate();
    expect([...s.plan(s.desired(new Map()))]).toEqual([
      ["async_insert", "0"],
      ["date_time_input_format", "best_effort"],
    ]);
  });

  it("writes one SET with quoted names and values", () => {
    expect(setStatement(new Map([["log_comment", "it's"]]))).toBe("SET `log_comment` = 'it\\'s'");
  });
});
