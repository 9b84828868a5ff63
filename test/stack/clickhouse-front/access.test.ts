import { describe, expect, it } from "vitest";
import { checkRequirements, type ReadonlyContext } from "./access-check.js";
import { AccessControl, type AccessSnapshot, type Actor } from "./access.js";
import { statementNeeds } from "./requirements.js";
import { tokenize } from "./sql.js";

const rw: ReadonlyContext = { readonly: 0, httpGet: false };
const admin: Actor = { user: "default", database: "default", currentRoles: "default", readonly: rw };
const as = (user: string): Actor => ({ ...admin, user });

/** Throws like the front would for `sql` run by `user`. */
function check(a: AccessControl, user: string, sql: string, ro: ReadonlyContext = rw): void {
  checkRequirements(a.rightsOf(user), statementNeeds(tokenize(sql), sql, "default").requirements, ro);
}

describe("AccessControl", () => {
  it("authenticates created users with the password hashed the way the statement says", () => {
    const a = new AccessControl("default", "admin-pw");
    a.apply("CREATE USER u1 IDENTIFIED BY 'p1'", admin);
    a.apply("CREATE USER u2 IDENTIFIED WITH plaintext_password BY 'p2'", admin);
    a.apply("CREATE USER u3 IDENTIFIED WITH sha256_hash BY '148de9c5a7a44d19e56cd9ae1a554bf67847afb0c58f6e12fa29ac7ddfca9940'", admin);
    expect(() => a.authenticate("u1", "p1")).not.toThrow();
    expect(() => a.authenticate("u2", "p2")).not.toThrow();
    expect(() => a.authenticate("u3", "p")).not.toThrow();
    expect(() => a.authenticate("u1", "wrong")).toThrow(/Authentication failed/);
    expect(() => a.authenticate("nobody", "")).toThrow(/Authentication failed/);
  });

  it("enforces the destinationOnly grants: INSERT yes, CREATE/ALTER/DROP/SELECT no", () => {
    const a = new AccessControl("default", "pw");
    a.apply("CREATE USER IF NOT EXISTS u IDENTIFIED WITH sha256_password BY 'x' DEFAULT DATABASE db", admin);
    for (const g of ["GRANT INSERT ON db.t TO u", "GRANT INSERT ON db.`t_clickpipes_error` TO u", "GRANT INSERT ON db.clickpipes_log TO u", "GRANT INSERT, SELECT ON db.clickpipes_state TO u"]) a.apply(g, admin);
    expect(() => check(a, "u", "INSERT INTO db.t FORMAT JSONEachRow")).not.toThrow();
    expect(() => check(a, "u", "CREATE TABLE IF NOT EXISTS db.t (a UInt8) ENGINE = MergeTree ORDER BY a")).toThrow("u: Not enough privileges. To execute this query, it's necessary to have the grant CREATE TABLE ON db.t");
    expect(() => check(a, "u", "ALTER TABLE db.t ADD COLUMN c String")).toThrow("grant ALTER ADD COLUMN(c) ON db.t");
    expect(() => check(a, "u", "DROP TABLE db.t")).toThrow("grant DROP TABLE ON db.t");
    expect(() => check(a, "u", "RENAME TABLE db.t TO db.t2")).toThrow("grant SELECT ON db.t");
    expect(a.rightsOf("u").seesTable("db", "t")).toBe(true);
    expect(a.rightsOf("u").seesTable("db", "other")).toBe(false);
    expect(a.defaultDatabase("u")).toBe("db");
  });

  it("grants through roles, wildcards and ALL; revoke (also partial) takes effect at once", () => {
    const a = new AccessControl("default", "pw");
    a.apply("CREATE USER pipe IDENTIFIED BY 'x'", admin);
    a.apply("CREATE ROLE writer", admin);
    a.apply("GRANT INSERT, SELECT ON db.dest TO writer", admin);
    a.apply("GRANT writer TO pipe", admin);
    expect(() => check(a, "pipe", "INSERT INTO db.dest FORMAT JSONEachRow")).not.toThrow();
    expect(() => check(a, "pipe", "INSERT INTO db.other FORMAT JSONEachRow")).toThrow(/ACCESS|privileges/);
    a.apply("REVOKE writer FROM pipe", admin);
    expect(() => check(a, "pipe", "INSERT INTO db.dest FORMAT JSONEachRow")).toThrow(/privileges/);
    a.apply("GRANT ALL ON db.* TO pipe", admin);
    expect(() => check(a, "pipe", "ALTER TABLE db.anything DROP COLUMN x")).not.toThrow();
    a.apply("REVOKE ALTER ON db.secret FROM pipe", admin);
    expect(() => check(a, "pipe", "ALTER TABLE db.secret DROP COLUMN x")).toThrow(/ALTER DROP COLUMN\(x\) ON db.secret/);
    expect(() => check(a, "pipe", "CREATE DATABASE db2")).toThrow(/CREATE DATABASE ON db2\.\*/);
    a.apply("GRANT SELECT ON *.* TO pipe", admin);
    expect(() => check(a, "pipe", "OPTIMIZE TABLE other.t")).toThrow(/OPTIMIZE ON other.t/);
  });

  it("honours DEFAULT ROLE and SET ROLE", () => {
    const a = new AccessControl("default", "pw");
    a.apply("CREATE USER u", admin);
    a.apply("CREATE ROLE r", admin);
    a.apply("GRANT INSERT ON db.t TO r", admin);
    a.apply("GRANT r TO u", admin);
    a.apply("SET DEFAULT ROLE NONE TO u", admin);
    expect(a.rightsOf("u").isGranted("INSERT", { database: "db", table: "t" })).toBe(false);
    const change = a.apply("SET ROLE r", as("u"));
    expect(change.currentRoles).toEqual({ all: false, names: ["r"], except: [] });
    expect(a.rightsOf("u", { all: false, names: ["r"], except: [] }).isGranted("INSERT", { database: "db", table: "t" })).toBe(true);
    expect(() => a.apply("SET ROLE nope", as("u"))).toThrow(/There is no role/);
  });

  it("lets only holders of ACCESS MANAGEMENT or of a privilege WITH GRANT OPTION change access", () => {
    const a = new AccessControl("default", "pw");
    a.apply("CREATE USER u IDENTIFIED BY 'x'", admin);
    a.apply("CREATE USER v", admin);
    expect(() => a.apply("CREATE USER w", as("u"))).toThrow("u: Not enough privileges. To execute this query, it's necessary to have the grant CREATE USER ON *.*");
    a.apply("GRANT SELECT ON db.t TO u", admin);
    expect(() => a.apply("GRANT SELECT ON db.t TO v", as("u"))).toThrow(/granted, but without grant option.*SELECT ON db.t WITH GRANT OPTION/);
    a.apply("GRANT SELECT ON db.* TO u WITH GRANT OPTION", admin);
    expect(() => a.apply("GRANT SELECT ON db.t TO v", as("u"))).not.toThrow();
    expect(() => a.apply("CREATE USER u", admin)).toThrow(/already exists/);
    expect(() => a.apply("DROP USER ghost", admin)).toThrow(/There is no user/);
    expect(() => a.apply("GRANT ghost_role TO u", admin)).toThrow(/There is no role/);
  });

  it("refuses writes under readonly after checking the grant", () => {
    const a = new AccessControl("default", "pw");
    a.apply("CREATE USER ro SETTINGS readonly = 1", admin);
    expect(a.userSettings("ro").get("readonly")).toBe("1");
    expect(() => check(a, "default", "INSERT INTO db.t FORMAT JSONEachRow", { readonly: 2, httpGet: true })).toThrow(/method GET implies readonly/);
    expect(() => check(a, "ro", "INSERT INTO db.t FORMAT JSONEachRow", { readonly: 1, httpGet: false })).toThrow(/ACCESS_DENIED|Not enough privileges/);
    expect(() => check(a, "default", "CREATE TEMPORARY TABLE x (a UInt8)", { readonly: 2, httpGet: false })).not.toThrow();
    expect(() => check(a, "default", "CREATE TEMPORARY TABLE x (a UInt8)", { readonly: 1, httpGet: false })).toThrow(/readonly/);
  });

  it("survives a snapshot round trip and reads the previous snapshot format", () => {
    const a = new AccessControl("default", "pw");
    a.apply("CREATE USER u IDENTIFIED BY 'x'", admin);
    a.apply("GRANT INSERT ON db.t TO u", admin);
    const b = new AccessControl("default", "pw", JSON.parse(JSON.stringify(a.snapshot())) as AccessSnapshot);
    expect(() => b.authenticate("u", "x")).not.toThrow();
    expect(b.rightsOf("u").isGranted("INSERT", { database: "db", table: "t" })).toBe(true);
    const legacy = { principals: [{ kind: "user" as const, name: "old", auth: { type: "none" as const }, grants: [{ kind: "privilege" as const, privileges: ["INSERT"], database: "db", table: "t", text: "" }] }] };
    expect(new AccessControl("default", "pw", legacy).rightsOf("old").isGranted("INSERT", { database: "db", table: "t" })).toBe(true);
  });
});
