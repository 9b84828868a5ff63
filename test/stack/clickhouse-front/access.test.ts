import { describe, expect, it } from "vitest";
import { AccessControl, type AccessSnapshot } from "./access.js";

describe("AccessControl", () => {
  it("authenticates created users with the password hashed the way the statement says", () => {
    const a = new AccessControl("default", "admin-pw");
    a.apply("CREATE USER u1 IDENTIFIED BY 'p1'", "default");
    a.apply("CREATE USER u2 IDENTIFIED WITH plaintext_password BY 'p2'", "default");
    a.apply("CREATE USER u3 IDENTIFIED WITH sha256_hash BY '148de9c5a7a44d19e56cd9ae1a554bf67847afb0c58f6e12fa29ac7ddfca9940'", "default");
    expect(() => a.authenticate("u1", "p1")).not.toThrow();
    expect(() => a.authenticate("u2", "p2")).not.toThrow();
    expect(() => a.authenticate("u3", "p")).not.toThrow();
    expect(() => a.authenticate("u1", "wrong")).toThrow(/Authentication failed/);
    expect(() => a.authenticate("nobody", "")).toThrow(/Authentication failed/);
    expect(() => a.authenticate("default", "admin-pw")).not.toThrow();
  });

  it("grants INSERT through roles, per table, and revokes it", () => {
    const a = new AccessControl("default", "pw");
    a.apply("CREATE USER pipe IDENTIFIED BY 'x'", "default");
    a.apply("CREATE ROLE writer", "default");
    a.apply("GRANT INSERT, SELECT ON db.dest TO writer", "default");
    a.apply("GRANT writer TO pipe", "default");
    expect(() => a.authorizeInsert("pipe", "db", "dest")).not.toThrow();
    expect(() => a.authorizeInsert("pipe", "db", "other")).toThrow(/ACCESS|privileges/);
    a.apply("REVOKE writer FROM pipe", "default");
    expect(() => a.authorizeInsert("pipe", "db", "dest")).toThrow(/privileges/);
    a.apply("GRANT INSERT ON db.* TO pipe", "default");
    expect(() => a.authorizeInsert("pipe", "db", "anything")).not.toThrow();
  });

  it("allows access management only to admins and reports unknown or duplicate entities", () => {
    const a = new AccessControl("default", "pw");
    a.apply("CREATE USER u IDENTIFIED BY 'x'", "default");
    expect(() => a.apply("CREATE USER v", "u")).toThrow(/ACCESS MANAGEMENT/);
    expect(() => a.apply("CREATE USER u", "default")).toThrow(/already exists/);
    expect(() => a.apply("CREATE USER IF NOT EXISTS u", "default")).not.toThrow();
    expect(() => a.apply("DROP USER ghost", "default")).toThrow(/There is no user/);
    expect(() => a.apply("GRANT ghost_role TO u", "default")).toThrow(/There is no role/);
    a.apply("DROP USER IF EXISTS u, ghost", "default");
    expect(a.users()).toEqual([]);
  });

  it("survives a snapshot round trip", () => {
    const a = new AccessControl("default", "pw");
    a.apply("CREATE USER u IDENTIFIED BY 'x'", "default");
    a.apply("GRANT INSERT ON db.t TO u", "default");
    const b = new AccessControl("default", "pw", JSON.parse(JSON.stringify(a.snapshot())) as AccessSnapshot);
    expect(() => b.authenticate("u", "x")).not.toThrow();
    expect(() => b.authorizeInsert("u", "db", "t")).not.toThrow();
  });
});
