import { describe, expect, it } from "vitest";
import { enrollmentPolicyFromEnv } from "../src/enrollment-policy.js";

describe("enrollment policy", () => {
  it("refuses a bad limit", () => {
    expect(() => enrollmentPolicyFromEnv({ SPEAKERS_ENROLL_MIN_SAMPLES: "-1" })).toThrow(
      /non-negative integer/,
    );
  });

  it("reads enrollment limits", () => {
    expect(enrollmentPolicyFromEnv({ SPEAKERS_ENROLL_MIN_TOTAL_MS: "5000" })).toMatchObject({
      minTotalSpeechMs: 5000,
      minSamples: 3,
    });
  });
});
