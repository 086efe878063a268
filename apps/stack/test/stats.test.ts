import { describe, expect, it } from "vitest";
import { keepsUp, type PhaseResult } from "../src/bench-e2e.js";
import { percentile, percentiles } from "../src/stats.js";

describe("percentile (nearest rank)", () => {
  it("takes the smallest value with at least p% of the samples at or below it", () => {
    const values = [50, 10, 40, 20, 30, 60, 70, 80, 90, 100];
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 95)).toBe(100);
    expect(percentile(values, 10)).toBe(10);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeUndefined();
  });

  it("does not reorder the caller's array", () => {
    const values = [3, 1, 2];
    expect(percentiles(values)).toEqual({ count: 3, p50: 2, p95: 3, p99: 3, max: 3 });
    expect(values).toEqual([3, 1, 2]);
  });
});

describe("keepsUp", () => {
  const phase = (offeredRate: number, achievedRate: number, p50: number, lost = 0): PhaseResult => {
    const p = { count: 10, p50, p95: p50, p99: p50, max: p50 };
    return {
      name: "x",
      offeredRate,
      clips: 10,
      lost,
      refused: 0,
      achievedRate,
      totalMs: p,
      modelMs: p,
      overheadMs: p,
      registryMs: p,
      workerMs: p,
      captureMs: p,
      uploadMs: p,
      wallMs: 1,
    };
  };
  const baseline = phase(1, 0.98, 150);

  it("accepts a step that keeps the rate and the median latency", () => {
    expect(keepsUp(phase(4, 3.9, 380), baseline)).toBe(true);
  });
  it("rejects a step whose median climbed past twice the baseline's plus 100 ms", () => {
    expect(keepsUp(phase(4, 3.9, 401), baseline)).toBe(false);
  });
  it("rejects a step that fell behind its offered rate or lost a clip", () => {
    expect(keepsUp(phase(8, 6.5, 200), baseline)).toBe(false);
    expect(keepsUp(phase(2, 2, 160, 1), baseline)).toBe(false);
  });
});
