/**
 * Accuracy with the real GE2E worker on real speech: every dev speaker enrolled from 3 clips, every other clip
 * identified, each speaker held out as a stranger in turn. Runs `speakers eval` itself (runEval).
 */
import { resolve } from "node:path";
import { DEV_AUDIO } from "@speakers/test-support";
import { describe, expect, it } from "vitest";
import { runEval } from "../src/index.js";

describe("speakers eval on the dev set (GE2E)", () => {
  it("identifies at least 95% of clips and keeps held-out strangers out", { timeout: 600_000 }, async () => {
    const report = await runEval({ dir: DEV_AUDIO, enroll: 3, model: "ge2e" });
    expect(report).toMatchObject({ model: "resemblyzer/ge2e@0.1.4", speakers: 12, enroll_per_speaker: 3 });
    expect(report.test_files).toBe(report.files - 36);
    expect(report.speakers_not_enrolled).toEqual([]);
    expect(report.identification_accuracy).toBeGreaterThanOrEqual(0.95);
    expect(report.identification_accuracy_at_threshold).toBeGreaterThanOrEqual(0.9);
    expect(report.stranger_trials).toBe(report.test_files);
    expect(report.open_set_far).toBeLessThanOrEqual(0.1);
    expect(report.open_set_frr).toBeLessThanOrEqual(0.1);
    expect(report.eer).toBeLessThanOrEqual(0.1);
  });

  it("refuses a folder that is not a speaker dataset with a typed error", async () => {
    await expect(runEval({ dir: "/nonexistent/speakers" })).rejects.toMatchObject({
      code: "AUDIO_PATH_NOT_FOUND",
    });
    await expect(runEval({ dir: resolve(DEV_AUDIO, "19") })).rejects.toMatchObject({
      code: "INVALID_REQUEST",
    });
  });
});
