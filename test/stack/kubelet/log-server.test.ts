import { describe, expect, it } from "vitest";
import { tailLines } from "./log-server.js";

describe("tailLines (kubectl logs --tail)", () => {
  it("keeps the last N lines and the trailing newline", () => {
    expect(tailLines("a\nb\nc\n", 2)).toBe("b\nc\n");
    expect(tailLines("a\nb\nc", 1)).toBe("c");
    expect(tailLines("a\nb\n", 10)).toBe("a\nb\n");
    expect(tailLines("a\nb\n", 0)).toBe("");
    expect(tailLines("a\nb\n", undefined)).toBe("a\nb\n");
    expect(tailLines("", 3)).toBe("");
  });
});
