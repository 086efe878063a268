import { describe, expect, it } from "vitest";
import { audioRetentionFromEnv, parseBytes, parseDuration, SpeakersError } from "../src/index.js";

describe("audio retention from the environment", () => {
  it("reads durations and sizes with units", () => {
    expect(parseDuration("30d")).toBe(30 * 86_400_000);
    expect(parseDuration("12h")).toBe(12 * 3_600_000);
    expect(parseDuration("1.5m")).toBe(90_000);
    expect(parseBytes("10GiB")).toBe(10 * 1024 ** 3);
    expect(parseBytes("500MB")).toBe(500_000_000);
    expect(parseBytes("4096")).toBe(4096);
    expect(parseBytes("-1")).toBe(-1);
  });

  it("keeps the defaults when unset, and names the variable when wrong", () => {
    expect(audioRetentionFromEnv({})).toEqual({});
    expect(audioRetentionFromEnv({ SPEAKERS_AUDIO_MAX_AGE: "7d", SPEAKERS_AUDIO_MAX_BYTES: "1GiB" })).toEqual(
      {
        audioMaxAgeMs: 7 * 86_400_000,
        audioMaxBytes: 1024 ** 3,
      },
    );
    for (const env of [{ SPEAKERS_AUDIO_MAX_AGE: "30" }, { SPEAKERS_AUDIO_MAX_BYTES: "lots" }]) {
      let err: unknown;
      try {
        audioRetentionFromEnv(env);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SpeakersError);
      expect((err as SpeakersError).code).toBe("INVALID_REQUEST");
      expect((err as SpeakersError).message).toMatch(Object.keys(env)[0] ?? "");
    }
  });
});
