import { describe, expect, it } from "vitest";
import { decide, rank } from "../src/decide.js";

const policy = { threshold: 0.7, margin: 0.05, consistencyFloor: 0.6 };

describe("rank", () => {
  it("orders voiceprints best first by cosine", () => {
    const ranked = rank(
      [1, 0],
      [
        { speakerId: "far", vector: [0, 1] },
        { speakerId: "near", vector: [0.9, 0.1] },
      ],
    );
    expect(ranked.map((c) => c.speakerId)).toEqual(["near", "far"]);
    expect(ranked[0]?.score).toBeGreaterThan(0.99);
  });
});

describe("decide", () => {
  it("accepts the best candidate above threshold with enough margin", () => {
    const d = decide(
      [
        { speakerId: "alice", score: 0.85 },
        { speakerId: "bob", score: 0.6 },
      ],
      policy,
    );
    expect(d).toMatchObject({ decision: "known", speakerId: "alice", reason: undefined });
    expect(d.margin).toBeCloseTo(0.25);
  });

  it("calls the nearest speaker unknown when the score is below threshold", () => {
    const d = decide([{ speakerId: "alice", score: 0.69 }], policy);
    expect(d).toMatchObject({
      decision: "unknown",
      speakerId: undefined,
      reason: "below-threshold",
      score: 0.69,
    });
  });

  it("calls two close candidates ambiguous", () => {
    const d = decide(
      [
        { speakerId: "alice", score: 0.8 },
        { speakerId: "bob", score: 0.78 },
      ],
      policy,
    );
    expect(d).toMatchObject({ decision: "unknown", reason: "ambiguous" });
  });

  it("is unknown with nothing enrolled", () => {
    expect(decide([], policy)).toMatchObject({
      decision: "unknown",
      reason: "no-voiceprints",
      score: undefined,
    });
  });

  it("reports at most topK candidates and never a negative margin", () => {
    const many = [0.5, 0.4, 0.3, 0.2].map((score, i) => ({ speakerId: `s${i}`, score }));
    expect(decide(many, policy, 2).candidates).toHaveLength(2);
    expect(decide([{ speakerId: "x", score: -0.2 }], policy).margin).toBe(0);
  });
});
