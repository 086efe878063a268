/** The adaptation gate (ADR 0003): every condition alone keeps a clip out. */
import type { CalibratedScoring, CalibrationRecord } from "@speakers/events";
import { describe, expect, it } from "vitest";
import { adaptationVerdict, strangerCeiling } from "../src/adaptation.js";

const scoring: CalibratedScoring = {
  scale: "as-norm",
  score: 6,
  threshold: 3,
  margin: 4,
  marginThreshold: 0,
  bin: "medium",
  source: "calibration",
  confidence: 0.999,
};
const good = {
  decision: "known" as const,
  scoring,
  quality: { speechSeconds: 3, snrDb: 25 },
  ceiling: 4.5,
};

describe("adaptation verdict", () => {
  it("adapts a clear, clean, well-separated acceptance", () => {
    expect(adaptationVerdict(good).adapt).toBe(true);
  });

  it.each([
    ["an unknown decision", { decision: "unknown" as const }],
    ["the model's defaults deciding", { scoring: { ...scoring, source: "defaults" as const } }],
    ["no calibration ceiling", { ceiling: undefined }],
    ["short speech", { quality: { speechSeconds: 1, snrDb: 25 } }],
    ["no SNR estimate", { quality: { speechSeconds: 3 } }],
    ["a noisy clip", { quality: { speechSeconds: 3, snrDb: 5 } }],
    ["a score just over the threshold", { scoring: { ...scoring, score: 3.5 } }],
    ["a score among the strangers' scores", { ceiling: 6.5 }],
    ["a close runner-up", { scoring: { ...scoring, margin: 0.5 } }],
  ])("refuses %s", (_what, change) => {
    expect(adaptationVerdict({ ...good, ...change }).adapt).toBe(false);
  });

  it("takes the ceiling from the calibration's DET points where no stranger was accepted", () => {
    const det = [
      { threshold: 9, far: 0, frr: 0.9 },
      { threshold: 5, far: 0, frr: 0.4 },
      { threshold: 4, far: 0.01, frr: 0.2 },
    ];
    expect(strangerCeiling({ status: "calibrated", det } as CalibrationRecord)).toBe(5);
    expect(strangerCeiling({ status: "default", det } as CalibrationRecord)).toBeUndefined();
    expect(strangerCeiling(undefined)).toBeUndefined();
  });
});
