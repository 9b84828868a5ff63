import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { referenceMarkdown } from "./reference.js";

describe("docs/reference.md", () => {
  it("is generated from the current schema", () => {
    const checkedIn = readFileSync(fileURLToPath(new URL("../../docs/reference.md", import.meta.url)), "utf8");
    expect(checkedIn, "run `npx tsx scripts/gen-reference.ts`").toBe(referenceMarkdown());
  });

  it("lists every source kind with its defaults", () => {
    const markdown = referenceMarkdown();
    for (const kind of ["kafka", "kinesis", "objectStorage", "postgres", "mysql", "mongodb", "bigquery"]) {
      expect(markdown).toContain(`\`spec.source.${kind}\``);
    }
    expect(markdown).toContain('| `spec.settings.streamingMaxInsertWaitTime` | string |  | `"5s"` |');
  });
});
