import { describe, expect, it } from "vitest";
import { cosine, dot, l2Normalize, norm, voiceprintOf } from "../src/vectors.js";

describe("vectors", () => {
  it("normalizes to unit length and keeps direction", () => {
    const unit = l2Normalize([3, 4]);
    expect(unit[0]).toBeCloseTo(0.6);
    expect(unit[1]).toBeCloseTo(0.8);
    expect(norm(unit)).toBeCloseTo(1);
  });

  it("refuses zero and non-finite vectors with a typed error", () => {
    expect(() => l2Normalize([0, 0])).toThrow(expect.objectContaining({ code: "INVALID_REQUEST" }));
    expect(() => l2Normalize([Number.NaN, 1])).toThrow(expect.objectContaining({ code: "INVALID_REQUEST" }));
  });

  it("never compares vectors of different length", () => {
    expect(() => dot([1, 0], [1, 0, 0])).toThrow(expect.objectContaining({ code: "EMBEDDING_DIM_MISMATCH" }));
  });

  it("scores cosine independent of magnitude", () => {
    expect(cosine([1, 0], [5, 0])).toBeCloseTo(1);
    expect(cosine([1, 0], [0, 2])).toBeCloseTo(0);
    expect(cosine([1, 1], [-1, -1])).toBeCloseTo(-1);
  });

  it("builds the voiceprint as the normalized mean of normalized samples", () => {
    // Without per-sample normalization the long vector [10, 0] would dominate the mean.
    const vp = voiceprintOf([
      [10, 0],
      [0, 1],
    ]);
    expect(vp[0]).toBeCloseTo(Math.SQRT1_2);
    expect(vp[1]).toBeCloseTo(Math.SQRT1_2);
    expect(norm(vp)).toBeCloseTo(1);
  });

  it("makes a sample's contribution leave when it is removed", () => {
    const a = [1, 0, 0];
    const b = [0, 1, 0];
    const c = [0, 0, 1];
    const withC = voiceprintOf([a, b, c]);
    const withoutC = voiceprintOf([a, b]);
    expect(withC[2]).toBeGreaterThan(0.5);
    expect(withoutC[2]).toBe(0);
  });

  it("needs at least one sample", () => {
    expect(() => voiceprintOf([])).toThrow(expect.objectContaining({ code: "EMBEDDINGS_EMPTY" }));
  });
});
