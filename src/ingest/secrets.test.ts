import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { secretsFromDirectory, secretsFromDocuments } from "./secrets.js";

describe("secrets", () => {
  it("reads stringData and base64 data from Secret documents", () => {
    const s = secretsFromDocuments([{ metadata: { name: "a" }, stringData: { username: "u" }, data: { password: Buffer.from("p").toString("base64") } }]);
    expect(s.get("a", "username")).toBe("u");
    expect(s.get("a", "password")).toBe("p");
  });

  it("reads mounted Secret volumes as <dir>/<secret>/<key>", () => {
    const dir = mkdtempSync(join(tmpdir(), "secrets-"));
    mkdirSync(join(dir, "ch"));
    writeFileSync(join(dir, "ch", "password"), "pw");
    const s = secretsFromDirectory(dir);
    expect(s.get("ch", "password")).toBe("pw");
    expect(() => s.get("ch", "username")).toThrow(/has no key "username"/);
    expect(() => s.get("other", "username")).toThrow(/Secret "other" is not mounted/);
  });
});
