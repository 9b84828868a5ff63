import { describe, expect, it } from "vitest";
import { createOperatorMetrics, PipePhases } from "./metrics.js";

describe("clickpipes_operator_pipe_phase", () => {
  it("has one series per phase for each pipe, 1 for its current phase", async () => {
    const phases = new PipePhases();
    const metrics = createOperatorMetrics(phases);
    phases.set("a", "one", "Running");
    phases.set("a", "one", "Failed");
    phases.set("b", "two", "Stopped");
    const text = await metrics.registry.metrics();
    expect(text).toContain('clickpipes_operator_pipe_phase{namespace="a",name="one",pipe="a/one",phase="Failed"} 1');
    expect(text).toContain('clickpipes_operator_pipe_phase{namespace="a",name="one",pipe="a/one",phase="Running"} 0');
    expect(text).toContain('clickpipes_operator_pipe_phase{namespace="b",name="two",pipe="b/two",phase="Stopped"} 1');
    expect(text.match(/^clickpipes_operator_pipe_phase\{/gm)).toHaveLength(14);
  });

  it("drops a forgotten pipe's series", async () => {
    const phases = new PipePhases();
    const metrics = createOperatorMetrics(phases);
    phases.set("a", "one", "Running");
    phases.forget("a", "one");
    expect(await metrics.registry.metrics()).not.toMatch(/^clickpipes_operator_pipe_phase\{/m);
  });
});
