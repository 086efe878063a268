/** The augmented copies' seed comes from what the sample sounds like, so a calibration is reproducible. */
import { describe, expect, it } from "vitest";
import { seedOf } from "../src/augment-samples.js";

const vector = Array.from({ length: 256 }, (_, i) => Math.sin(i * 0.37) / 11.3);

describe("seedOf", () => {
  it("gives the same recording's embedding the same seed, whatever its last bits", () => {
    expect(seedOf(vector)).toBe(seedOf([...vector]));
    expect(seedOf(vector.map((x) => x + 1e-9))).toBe(seedOf(vector));
  });

  it("gives another recording another seed", () => {
    const other = vector.map((x, i) => (i === 7 ? x + 0.01 : x));
    expect(seedOf(other)).not.toBe(seedOf(vector));
    expect(seedOf(vector.slice(1))).not.toBe(seedOf(vector));
  });
});
