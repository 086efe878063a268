import { describe, expect, it } from "vitest";
import type { EnrollmentPolicy } from "../src/enrollment-policy.js";
import { type GateSample, qualityOf, runQualityGates } from "../src/quality-gates.js";

const model = { threshold: 0.7, margin: 0.05, consistencyFloor: 0.6 };
const enrollment: EnrollmentPolicy = { minSampleSpeechMs: 2_000, minTotalSpeechMs: 10_000, minSamples: 3 };

/** A unit axis plus a little of a second axis, so samples of one "voice" are close but not identical. */
function voice(axis: number, jitterAxis: number, jitter = 0.2): number[] {
  const v = new Array<number>(8).fill(0);
  v[axis] = 1;
  v[jitterAxis] = (v[jitterAxis] ?? 0) + jitter;
  return v;
}

function sample(key: string, vector: number[], speechMs = 4_000): GateSample {
  return { key, vector, speechMs };
}

describe("quality gates", () => {
  it("accepts consistent samples and marks the speaker complete", () => {
    const result = runQualityGates({
      existing: [],
      incoming: [sample("a", voice(0, 1)), sample("b", voice(0, 2)), sample("c", voice(0, 3))],
      others: [],
      model,
      enrollment,
    });
    expect(result.verdicts.every((v) => v.accepted)).toBe(true);
    expect(result.quality).toMatchObject({ sampleCount: 3, speechMs: 12_000, complete: true, feedback: [] });
    expect(result.quality.minConsistency).toBeGreaterThan(0.9);
  });

  it("rejects a sample that is too short, saying how much speech it had", () => {
    const result = runQualityGates({
      existing: [],
      incoming: [sample("a", voice(0, 1)), sample("short", voice(0, 2), 1_200)],
      others: [],
      model,
      enrollment,
    });
    const short = result.verdicts.find((v) => v.key === "short");
    expect(short).toMatchObject({ accepted: false, feedback: { code: "ENROLL_SAMPLE_TOO_SHORT" } });
    expect(short?.feedback?.message).toContain("1.2 s");
  });

  it("flags too little speech in total without rejecting the samples", () => {
    const result = runQualityGates({
      existing: [],
      incoming: [sample("a", voice(0, 1), 3_000), sample("b", voice(0, 2), 3_000)],
      others: [],
      model,
      enrollment,
    });
    expect(result.verdicts.every((v) => v.accepted)).toBe(true);
    expect(result.quality.complete).toBe(false);
    expect(result.quality.feedback.map((f) => f.code)).toEqual(["ENROLL_TOO_LITTLE_SPEECH"]);
  });

  it("rejects the one sample that disagrees with the others", () => {
    const result = runQualityGates({
      existing: [],
      incoming: [
        sample("a", voice(0, 1)),
        sample("b", voice(0, 2)),
        sample("stranger", voice(5, 6)),
        sample("c", voice(0, 3)),
      ],
      others: [],
      model,
      enrollment,
    });
    expect(result.verdicts.filter((v) => !v.accepted).map((v) => v.key)).toEqual(["stranger"]);
    expect(result.verdicts.find((v) => v.key === "stranger")?.feedback?.code).toBe(
      "ENROLL_SAMPLE_INCONSISTENT",
    );
  });

  it("trusts existing samples and rejects a new one that disagrees with them", () => {
    const result = runQualityGates({
      existing: [sample("old1", voice(0, 1)), sample("old2", voice(0, 2))],
      incoming: [sample("new", voice(4, 5))],
      others: [],
      model,
      enrollment,
    });
    expect(result.verdicts[0]).toMatchObject({ key: "new", accepted: false });
    expect(result.quality.sampleCount).toBe(2);
  });

  it("rejects a sample that another enrolled speaker would claim", () => {
    const result = runQualityGates({
      existing: [],
      incoming: [sample("a", voice(0, 1))],
      others: [{ speakerId: "bob", vector: voice(0, 2) }],
      model,
      enrollment,
    });
    expect(result.verdicts[0]).toMatchObject({
      accepted: false,
      feedback: { code: "ENROLL_SAMPLE_CLOSER_TO_OTHER", details: { otherSpeakerId: "bob" } },
    });
  });

  it("keeps a sample that resembles someone else but its own speaker more", () => {
    const result = runQualityGates({
      existing: [sample("old1", voice(0, 1, 0.05)), sample("old2", voice(0, 1, 0.1))],
      incoming: [sample("new", voice(0, 1, 0.08))],
      others: [{ speakerId: "bob", vector: voice(0, 2, 0.6) }],
      model,
      enrollment,
    });
    expect(result.verdicts[0]?.accepted).toBe(true);
  });

  it("reports the quality of what is left after a removal", () => {
    const q = qualityOf([sample("a", voice(0, 1), 6_000)], enrollment);
    expect(q).toMatchObject({ sampleCount: 1, complete: false, minConsistency: undefined });
  });
});
