import { describe, expect, it } from "vitest";
import { equalErrorRate, openSetRates, rankOneAccuracy } from "../src/eval/metrics.js";

describe("equalErrorRate", () => {
  it("is 0 when genuine and impostor scores are separated", () => {
    expect(equalErrorRate([0.8, 0.9], [0.1, 0.2]).eer).toBe(0);
  });

  it("is 0.5 when the distributions are identical", () => {
    expect(equalErrorRate([0.5, 0.5], [0.5, 0.5]).eer).toBe(0.5);
  });

  it("finds the crossing on overlapping scores", () => {
    // At t=0.6: genuine 0.5 rejected (1/4), impostor 0.7 accepted (1/4).
    const { eer, threshold } = equalErrorRate([0.5, 0.8, 0.9, 0.95], [0.1, 0.2, 0.3, 0.7]);
    expect(eer).toBeCloseTo(0.25);
    expect(threshold).toBeGreaterThan(0.5);
    expect(threshold).toBeLessThanOrEqual(0.7);
  });

  it("needs both kinds of trials", () => {
    expect(() => equalErrorRate([], [0.1])).toThrow(RangeError);
  });
});

describe("openSetRates", () => {
  it("counts strangers accepted and enrolled speakers missed or confused", () => {
    const rates = openSetRates([
      { truth: "a", enrolled: true, decided: "a" },
      { truth: "a", enrolled: true, decided: undefined },
      { truth: "b", enrolled: true, decided: "a" },
      { truth: "c", enrolled: false, decided: undefined },
      { truth: "c", enrolled: false, decided: "a" },
    ]);
    expect(rates.frr).toBeCloseTo(2 / 3);
    expect(rates.far).toBeCloseTo(1 / 2);
    expect(rates).toMatchObject({ strangerTrials: 2, enrolledTrials: 3 });
  });
});

describe("rankOneAccuracy", () => {
  it("is the share of trials whose best candidate is right", () => {
    expect(
      rankOneAccuracy([
        { truth: "a", best: "a" },
        { truth: "b", best: "a" },
      ]),
    ).toBe(0.5);
  });
});
