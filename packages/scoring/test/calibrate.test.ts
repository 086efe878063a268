import { describe, expect, it } from "vitest";
import { type CalibrationSample, calibrate } from "../src/calibrate.js";
import { centre, householdSpace } from "../src/centring.js";
import { buildIndex, scoreProbe } from "../src/scorer.js";
import { dot } from "../src/vectors.js";

/** A seeded generator, so the synthetic voices are the same on every run. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function gaussian(r: () => number) {
  return Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}

const DIM = 32;

/** Speakers as points on the sphere; samples scattered around them, groups of 1 clean + 5 copies. */
function household(speakers: number, spread: number, seed: number): CalibrationSample[] {
  const r = rng(seed);
  const out: CalibrationSample[] = [];
  for (let s = 0; s < speakers; s++) {
    const centre = Array.from({ length: DIM }, () => gaussian(r));
    for (let g = 0; g < 3; g++) {
      for (let c = 0; c < 6; c++) {
        out.push({
          speakerId: `spk_${s}`,
          group: `smp_${s}_${g}`,
          kind: c === 0 ? "clean" : "augmented",
          vector: centre.map((x) => x + spread * gaussian(r)),
          speechSeconds: 1 + ((g * 6 + c) % 6),
        });
      }
    }
  }
  return out;
}

describe("calibrate", () => {
  it("says it cannot calibrate one speaker, and keeps the defaults", () => {
    const result = calibrate({ samples: household(1, 0.5, 1) });
    expect(result.status).toBe("default");
    expect(result.note).toMatch(/Fewer than two speakers/);
    expect(result.normalisation.method).toBe("none");
  });

  it("chooses thresholds that keep its own strangers' false accepts at the target", () => {
    const result = calibrate({ samples: household(6, 0.9, 2), targetFar: 0.05 });
    expect(result.status).toBe("calibrated");
    expect(result.scale).toBe("as-norm");
    // A bin with enough strangers gets its own quantile; a sparse one takes the overall threshold.
    const own = result.bins.filter((b) => b.impostorTrials >= 50);
    expect(own.length).toBeGreaterThan(0);
    for (const bin of own) expect(bin.far).toBeLessThanOrEqual(0.05);
    for (const bin of result.bins.filter((b) => b.impostorTrials < 50))
      expect(bin.threshold).toBe(result.threshold);
    expect(result.source.genuineTrials).toBe(6 * 3 * 6);
    expect(result.source.impostorTrials).toBe(6 * 3 * 6);
  });

  it("picks a different threshold when voices are noisier (the scale is learnt, not fixed)", () => {
    const clean = calibrate({ samples: household(5, 0.4, 3), normalisation: "none" });
    const noisy = calibrate({ samples: household(5, 1.2, 3), normalisation: "none" });
    expect(clean.threshold).not.toBeCloseTo(noisy.threshold, 2);
  });

  it("leaves an excluded speaker out of trials and cohort", () => {
    const samples = household(4, 0.8, 4);
    const result = calibrate({ samples, excludeSpeakers: ["spk_0"] });
    expect(result.source.speakers).toBe(3);
    expect(result.normalisation.cohort.enrolled).toBe(3 * 18);
    expect(result.source.excludedSpeakers).toEqual(["spk_0"]);
  });
});

describe("AS-norm index", () => {
  it("recentres a probe that sits close to every voice, so the right speaker leads", () => {
    const samples = household(4, 0.5, 5);
    const byId = (id: string) => samples.filter((s) => s.speakerId === id).map((s) => s.vector);
    const mean = (vs: number[][]) =>
      vs[0]?.map((_, i) => vs.reduce((a, v) => a + (v[i] ?? 0), 0) / vs.length) ?? [];
    const voiceprints = ["spk_0", "spk_1", "spk_2", "spk_3"].map((id) => ({
      speakerId: id,
      vector: mean(byId(id) as number[][]),
    }));
    const cohort = samples.map((s) => ({ speakerId: s.speakerId, vector: s.vector }));
    const normed = buildIndex({ voiceprints, cohort });
    const raw = buildIndex({ voiceprints, cohort, normalisation: "none" });
    expect(normed.normalisation).toBe("as-norm");
    expect(raw.normalisation).toBe("none");
    // Every score moves onto the normalised scale; raw cosine stays what it was.
    const probe = voiceprints[0]?.vector as number[];
    const a = scoreProbe(normed, probe);
    const b = scoreProbe(raw, probe);
    expect(a[0]?.speakerId).toBe("spk_0");
    expect(a[0]?.raw).toBeCloseTo(b.find((c) => c.speakerId === "spk_0")?.raw ?? 0, 9);
    expect(a[0]?.score).toBeGreaterThan(1);
    // The cosine a normalised threshold corresponds to reproduces it.
    const best = a[0];
    if (best === undefined) throw new Error("no candidate");
    expect(best.rawAt(best.score)).toBeCloseTo(best.raw, 9);
  });
});

describe("household centring", () => {
  /** Voices that share a large common part, as GE2E's positive-orthant vectors do. */
  function sharedPart(speakers: number, seed: number): CalibrationSample[] {
    const r = rng(seed);
    const common = Array.from({ length: DIM }, () => 3 + gaussian(r));
    return household(speakers, 1.2, seed + 1).map((s) => ({
      ...s,
      vector: s.vector.map((x, i) => x + (common[i] ?? 0) * 2),
    }));
  }

  it("centres on five or more voices and separates them better than raw cosines", () => {
    const samples = sharedPart(6, 11);
    const centred = calibrate({ samples, normalisation: "none" });
    const raw = calibrate({ samples, normalisation: "none", centring: "none" });
    expect(centred.normalisation.centring).toEqual({ method: "household", voices: 6 });
    expect(raw.normalisation.centring).toEqual({ method: "none", voices: 0 });
    expect(centred.eer).toBeLessThan(raw.eer);
  });

  it("stays off below five voices, where the mean would be the speakers themselves", () => {
    const result = calibrate({ samples: sharedPart(4, 12), normalisation: "none" });
    expect(result.normalisation.centring).toEqual({ method: "none", voices: 0 });
    expect(householdSpace([[[1, 0]], [[0, 1]]])).toBeUndefined();
  });

  it("scores a probe in the same space as the voiceprints it is compared with", () => {
    const samples = sharedPart(6, 13);
    const bySpeaker = new Map<string, number[][]>();
    for (const s of samples)
      bySpeaker.set(s.speakerId, [...(bySpeaker.get(s.speakerId) ?? []), [...s.vector]]);
    const space = householdSpace([...bySpeaker.values()]);
    expect(space?.voices).toBe(6);
    const index = buildIndex({
      voiceprints: [...bySpeaker].map(([speakerId, vs]) => ({
        speakerId,
        vector: vs[0] as number[],
        samples: vs,
      })),
      cohort: [],
      normalisation: "none",
      ...(space === undefined ? {} : { space }),
    });
    expect(index.centring).toBe("household");
    const probe = bySpeaker.get("spk_2")?.[1] as number[];
    const [best] = scoreProbe(index, probe);
    expect(best?.speakerId).toBe("spk_2");
    // A centred cosine, not the raw one (which is near 1 for every voice here).
    expect(best?.raw).toBeCloseTo(
      dot(centre(probe, space), index.voiceprints.find((v) => v.speakerId === "spk_2")?.vector ?? []),
      9,
    );
  });
});

describe("stranger trials", () => {
  it("leave out copies whose babble carries the other speakers' own voices", () => {
    const samples = household(4, 0.5, 21).map((s, i) => ({ ...s, carriesOtherVoices: i % 6 === 5 }));
    const result = calibrate({ samples });
    const carrying = samples.filter((s) => s.carriesOtherVoices).length;
    expect(carrying).toBeGreaterThan(0);
    expect(result.source.impostorTrials).toBe(samples.length - carrying);
    // They stay genuine trials: the speaker's own voice is the foreground.
    expect(result.source.genuineTrials).toBe(samples.length);
  });
});
