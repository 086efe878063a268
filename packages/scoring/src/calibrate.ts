/**
 * Calibration from the household's own data (ADR 0003). Nobody else's recordings are needed:
 *
 * - genuine trials: each clean enrollment sample of a speaker is held out in turn; its clean and augmented
 *   copies (crops of every length, simulated rooms and noise) are scored against the voiceprint made from
 *   the speaker's OTHER samples;
 * - stranger trials: each speaker in turn plays a stranger: their copies (except those whose babble was made
 *   from the other speakers' voices) are scored against every other speaker's voiceprint, with the stranger
 *   removed from the cohort and the centring too, and the best score counts (what an open-set decision sees
 *   when someone unknown speaks).
 *
 * Thresholds are the (1 - target FAR) quantile of the stranger scores, per speech-duration bin (short clips
 * score differently), so the false-accept rate is chosen, not hoped for. With fewer than two speakers there
 * are no strangers to learn from: the record says so and the model's defaults stay in use.
 */
import type { CalibrationRecord, DurationBin, DurationBinName } from "@speakers/events";
import { asNorm, type CohortEntry, cohortScores, DEFAULT_TOP_K, MIN_COHORT, topKStats } from "./as-norm.js";
import { type CentredSpace, type Centring, centre, householdSpace } from "./centring.js";
import { detCurve, equalErrorRate, fitLogistic, histogram, ratesAt, thresholdForFar } from "./curves.js";
import type { Normalisation } from "./scorer.js";
import { dot, l2Normalize, type Vector, voiceprintOf } from "./vectors.js";

export type SampleKind = "clean" | "augmented" | "adapted";

export interface CalibrationSample {
  readonly speakerId: string;
  /** The clean sample this one is, or was made from: held out together. */
  readonly group: string;
  readonly kind: SampleKind;
  readonly vector: Vector;
  readonly speechSeconds: number;
  /** Other household voices are mixed into it (an augmented copy's babble): never a stranger trial. */
  readonly carriesOtherVoices?: boolean;
}

export interface CalibrateInput {
  readonly samples: readonly CalibrationSample[];
  /** Unknown voices heard and an imported bank: cohort only, never trials. */
  readonly unknownCohort?: readonly Vector[];
  readonly importedCohort?: readonly Vector[];
  readonly targetFar?: number;
  readonly normalisation?: Normalisation;
  /** Score in the household's centred space (default) when it has enough voices; see centring.ts. */
  readonly centring?: Centring;
  readonly topK?: number;
  readonly excludeSpeakers?: readonly string[];
}

export type CalibrationResult = Omit<CalibrationRecord, "model" | "computedAt" | "trigger">;

export const DEFAULT_TARGET_FAR = 0.01;

/** Speech-duration bins: a spoken command, a sentence, a longer stretch. */
export const DURATION_BINS: readonly { name: DurationBinName; minSeconds: number; maxSeconds?: number }[] = [
  { name: "short", minSeconds: 0, maxSeconds: 2 },
  { name: "medium", minSeconds: 2, maxSeconds: 4 },
  { name: "long", minSeconds: 4 },
];

/** A bin with fewer stranger trials than this takes the overall threshold: its own quantile would be noise. */
const MIN_BIN_TRIALS = 50;

export function binOf(speechSeconds: number): DurationBinName {
  for (const b of DURATION_BINS) {
    if (speechSeconds >= b.minSeconds && (b.maxSeconds === undefined || speechSeconds < b.maxSeconds)) {
      return b.name;
    }
  }
  return "long";
}

interface Trial {
  score: number;
  seconds: number;
}

export function calibrate(input: CalibrateInput): CalibrationResult {
  const targetFar = input.targetFar ?? DEFAULT_TARGET_FAR;
  const topK = input.topK ?? DEFAULT_TOP_K;
  const excluded = new Set(input.excludeSpeakers ?? []);
  const samples = input.samples
    .filter((s) => !excluded.has(s.speakerId))
    .map((s) => ({ ...s, vector: l2Normalize(s.vector) }));
  const extra: CohortEntry[] = [
    ...(input.unknownCohort ?? []).map((v) => ({ speakerId: undefined, vector: l2Normalize(v) })),
    ...(input.importedCohort ?? []).map((v) => ({ speakerId: undefined, vector: l2Normalize(v) })),
  ];
  const speakers = [...new Set(samples.map((s) => s.speakerId))].sort();
  const cohort: CohortEntry[] = [
    ...samples.map((s) => ({ speakerId: s.speakerId, vector: s.vector })),
    ...extra,
  ];
  const wanted = input.normalisation ?? "as-norm";
  // Normalisation needs a cohort beside every speaker: with one speaker and no other voices it is off.
  const normalise =
    wanted === "as-norm" &&
    speakers.length > 0 &&
    speakers.every((s) => cohort.filter((c) => c.speakerId !== s).length >= MIN_COHORT);
  const method: Normalisation = normalise ? "as-norm" : "none";
  const counts = {
    speakers: speakers.length,
    samples: samples.filter((s) => s.kind === "clean").length,
    augmentedSamples: samples.filter((s) => s.kind === "augmented").length,
    adaptedSamples: samples.filter((s) => s.kind === "adapted").length,
  };
  // The space everything is scored in. Genuine trials use the whole household's; each stranger's trials use
  // the household's without the stranger (left out of the mean as of everything else), as a real stranger is.
  const extraVectors = extra.map((c) => c.vector);
  const voicesWithout = (left?: string) => [
    ...speakers
      .filter((s) => s !== left)
      .map((s) => samples.filter((x) => x.speakerId === s).map((x) => x.vector)),
    ...extraVectors.map((v) => [v]),
  ];
  const wantCentring = (input.centring ?? "household") === "household";
  const householdWide = wantCentring ? householdSpace(voicesWithout()) : undefined;
  const centring: Centring = householdWide === undefined ? "none" : "household";
  const normalisation = {
    method,
    topK,
    centring: { method: centring, voices: householdWide?.voices ?? 0 },
    cohort: {
      enrolled: samples.length,
      unknown: input.unknownCohort?.length ?? 0,
      imported: input.importedCohort?.length ?? 0,
    },
  };

  const viewOf = (space: CentredSpace | undefined) => {
    const vectors = samples.map((x) => centre(x.vector, space));
    const cohortHere: CohortEntry[] = [
      ...samples.map((x, k) => ({ speakerId: x.speakerId, vector: vectors[k] as Vector })),
      ...extra.map((c) => ({ speakerId: undefined, vector: centre(c.vector, space) })),
    ];
    const voiceprints = new Map(
      speakers.map((s) => [s, voiceprintOf(vectors.filter((_, k) => samples[k]?.speakerId === s))]),
    );
    return { vectors, cohort: cohortHere, voiceprints };
  };
  type View = ReturnType<typeof viewOf>;
  type Sorted = ReturnType<typeof cohortScores>;
  const sortedOf = (view: View, v: Vector): Sorted => (normalise ? cohortScores(v, view.cohort) : []);
  const score = (
    probe: Vector,
    probeSorted: Sorted,
    vp: Vector,
    vpSorted: Sorted,
    leaveOut: ReadonlySet<string>,
  ) => {
    const raw = dot(probe, vp);
    if (!normalise) return raw;
    const enrol = topKStats(vpSorted, topK, leaveOut);
    const test = topKStats(probeSorted, topK, leaveOut);
    return enrol === undefined || test === undefined ? raw : asNorm(raw, enrol, test);
  };

  const whole = viewOf(householdWide);
  const genuine: Trial[] = [];
  for (const s of speakers) {
    const own = samples
      .map((x, k) => ({ x, v: whole.vectors[k] as Vector }))
      .filter((o) => o.x.speakerId === s);
    const groups = [...new Set(own.map((o) => o.x.group))];
    if (groups.length < 2) continue;
    for (const g of groups) {
      const rest = voiceprintOf(own.filter((o) => o.x.group !== g).map((o) => o.v));
      const restSorted = sortedOf(whole, rest);
      for (const probe of own.filter((o) => o.x.group === g)) {
        const value = score(probe.v, sortedOf(whole, probe.v), rest, restSorted, new Set([s]));
        genuine.push({ score: value, seconds: probe.x.speechSeconds });
      }
    }
  }
  const strangers: Trial[] = [];
  if (speakers.length >= 2) {
    for (const stranger of speakers) {
      const view = householdWide === undefined ? whole : viewOf(householdSpace(voicesWithout(stranger), 1));
      const targets = [...view.voiceprints].filter(([t]) => t !== stranger);
      const targetSorted = new Map(targets.map(([t, vp]) => [t, sortedOf(view, vp)]));
      samples.forEach((x, k) => {
        // A copy whose babble was cut from the other speakers' own recordings carries the very voices it
        // would be scored against: it is no stranger's clip, and it set the calibration's top stranger scores.
        if (x.speakerId !== stranger || x.carriesOtherVoices === true) return;
        const probe = view.vectors[k] as Vector;
        const probeSorted = sortedOf(view, probe);
        let best = Number.NEGATIVE_INFINITY;
        for (const [t, vp] of targets) {
          const value = score(probe, probeSorted, vp, targetSorted.get(t) ?? [], new Set([stranger, t]));
          best = Math.max(best, value);
        }
        strangers.push({ score: best, seconds: x.speechSeconds });
      });
    }
  }

  const scale = method === "as-norm" ? ("as-norm" as const) : ("cosine" as const);
  const g = genuine.map((t) => t.score);
  const i = strangers.map((t) => t.score);
  const source = {
    ...counts,
    genuineTrials: genuine.length,
    impostorTrials: strangers.length,
    ...(excluded.size > 0 ? { excludedSpeakers: [...excluded] } : {}),
  };
  if (genuine.length === 0 || strangers.length === 0) {
    return {
      status: "default",
      note:
        speakers.length < 2
          ? "Fewer than two speakers: no strangers to calibrate against; the model's defaults decide."
          : "No speaker has two clean samples to hold out; the model's defaults decide.",
      scale,
      normalisation,
      targetFar,
      threshold: 0,
      margin: 0,
      bins: [],
      confidence: { a: 1, b: 0 },
      eer: 0,
      det: [],
      histogram: histogram(g.length ? g : [0], i.length ? i : [0]),
      source,
    };
  }
  const threshold = thresholdForFar(i, targetFar);
  const bins: DurationBin[] = DURATION_BINS.map((b) => {
    const inBin = (t: Trial) => binOf(t.seconds) === b.name;
    const bg = genuine.filter(inBin).map((t) => t.score);
    const bi = strangers.filter(inBin).map((t) => t.score);
    const own = bi.length >= MIN_BIN_TRIALS ? thresholdForFar(bi, targetFar) : threshold;
    const rates = ratesAt(bg, bi, own);
    return {
      ...b,
      threshold: own,
      genuineTrials: bg.length,
      impostorTrials: bi.length,
      far: rates.far,
      frr: rates.frr,
    };
  });
  return {
    status: "calibrated",
    scale,
    normalisation,
    targetFar,
    threshold,
    // No margin on top: the threshold is chosen on the best-of-N stranger score, which already is the
    // open-set decision; a margin would add rejects that this calibration did not measure.
    margin: 0,
    bins,
    confidence: fitLogistic(g, i),
    eer: equalErrorRate(g, i).eer,
    det: detCurve(g, i, 200),
    histogram: histogram(g, i, 40),
    source,
  };
}
