import { describe, expect, it } from "vitest";
import { createUserSql, dropUserSql, grantsSql, pipeUserName, setPasswordSql } from "./users.js";

describe("pipe users", () => {
  it("derives a readable, unique user name per pipe", () => {
    expect(pipeUserName("analytics/events")).toMatch(/^clickpipes_analytics_events_[0-9a-f]{8}$/);
    expect(pipeUserName("a-b/c")).not.toBe(pipeUserName("a/b-c"));
    expect(pipeUserName(`ns/${"x".repeat(300)}`).length).toBeLessThanOrEqual(64);
  });

  it("creates, re-keys and drops the user with quoted names and passwords", () => {
    expect(createUserSql("u", "p'w", "db")).toBe("CREATE USER IF NOT EXISTS `u` IDENTIFIED WITH sha256_password BY 'p\\'w' DEFAULT DATABASE `db`");
    expect(setPasswordSql("u", "pw")).toBe("ALTER USER `u` IDENTIFIED WITH sha256_password BY 'pw'");
    expect(dropUserSql("u")).toBe("DROP USER IF EXISTS `u`");
  });

  it("grants full access on the database", () => {
    expect(grantsSql({ kind: "full" }, "db", ["events"], "u")).toEqual(["GRANT ALL ON `db`.* TO `u`"]);
  });

  it("grants destinationOnly the inserts the consumer makes and nothing else", () => {
    expect(grantsSql({ kind: "destinationOnly" }, "db", ["events"], "u")).toEqual([
      "GRANT INSERT ON `db`.`events` TO `u`",
      "GRANT INSERT ON `db`.`events_clickpipes_error` TO `u`",
      "GRANT INSERT ON `db`.`clickpipes_log` TO `u`",
      "GRANT INSERT, SELECT ON `db`.`clickpipes_state` TO `u`",
    ]);
  });

  it("grants a custom role plus the pipe's bookkeeping tables", () => {
    expect(grantsSql({ kind: "customRole", role: "writer" }, "db", ["events"], "u")).toEqual([
      "GRANT `writer` TO `u`",
      "ALTER USER `u` DEFAULT ROLE ALL",
      "GRANT INSERT ON `db`.`events_clickpipes_error` TO `u`",
      "GRANT INSERT ON `db`.`clickpipes_log` TO `u`",
      "GRANT INSERT, SELECT ON `db`.`clickpipes_state` TO `u`",
    ]);
  });

  it("covers every table of a pipe that writes many (CDC: one per table mapping)", () => {
    expect(grantsSql({ kind: "destinationOnly" }, "db", ["orders", "users"], "u")).toEqual([
      "GRANT INSERT ON `db`.`orders` TO `u`",
      "GRANT INSERT ON `db`.`users` TO `u`",
      "GRANT INSERT ON `db`.`orders_clickpipes_error` TO `u`",
      "GRANT INSERT ON `db`.`users_clickpipes_error` TO `u`",
      "GRANT INSERT ON `db`.`clickpipes_log` TO `u`",
      "GRANT INSERT, SELECT ON `db`.`clickpipes_state` TO `u`",
    ]);
    expect(grantsSql({ kind: "customRole", role: "writer" }, "db", ["orders", "users"], "u")).toContain("GRANT INSERT ON `db`.`users_clickpipes_error` TO `u`");
  });

  it("lets an exactly-once pipe read which positions its table and error table hold", () => {
    const grants = grantsSql({ kind: "destinationOnly" }, "db", ["events"], "u", { exactlyOnce: true });
    expect(grants).toContain("GRANT SELECT ON `db`.`events` TO `u`");
    expect(grants).toContain("GRANT SELECT ON `db`.`events_clickpipes_error` TO `u`");
    expect(grantsSql({ kind: "destinationOnly" }, "db", ["events"], "u")).not.toContain("GRANT SELECT ON `db`.`events` TO `u`");
  });
});
