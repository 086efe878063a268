/**
 * The scoring index of one model: voiceprints with their cohort statistics computed when a voiceprint or the
 * cohort changes, so an identification only adds one pass over the cohort for the probe's own statistics.
 */
import {
  asNorm,
  type CohortEntry,
  cohortScores,
  DEFAULT_TOP_K,
  type NormStats,
  rawFor,
  topKStats,
} from "./as-norm.js";
import { type CentredSpace, type Centring, centre } from "./centring.js";
import { dot, type Vector, voiceprintOf } from "./vectors.js";

export type Normalisation = "as-norm" | "none";

export interface IndexedVoiceprint {
  readonly speakerId: string;
  readonly vector: Vector;
  /** Cohort statistics of this voiceprint, without its own speaker; undefined when normalisation is off. */
  readonly stats: NormStats | undefined;
}

export interface ScoringIndex {
  /** `none` when switched off or when the cohort is too small for every voiceprint. */
  readonly normalisation: Normalisation;
  /** `household` when probes, voiceprints and cohort are scored in the household's centred space. */
  readonly centring: Centring;
  readonly space: CentredSpace | undefined;
  readonly topK: number;
  readonly voiceprints: readonly IndexedVoiceprint[];
  readonly cohort: readonly CohortEntry[];
}

export interface IndexInput {
  /**
   * With `samples`, the voiceprint is the mean of the centred samples (as the calibration scores it);
   * otherwise `vector`, centred.
   */
  readonly voiceprints: readonly { speakerId: string; vector: Vector; samples?: readonly Vector[] }[];
  readonly cohort: readonly CohortEntry[];
  readonly normalisation?: Normalisation;
  /** The household's centred space (centring.ts); undefined scores raw cosines. */
  readonly space?: CentredSpace;
  readonly topK?: number;
}

export function buildIndex(input: IndexInput): ScoringIndex {
  const topK = input.topK ?? DEFAULT_TOP_K;
  const space = input.space;
  const cohort = input.cohort.map((c) => ({ speakerId: c.speakerId, vector: centre(c.vector, space) }));
  const wanted = input.normalisation ?? "as-norm";
  const voiceprints = input.voiceprints.map((v) => {
    const vector =
      space !== undefined && v.samples !== undefined && v.samples.length > 0
        ? voiceprintOf(v.samples.map((x) => centre(x, space)))
        : centre(v.vector, space);
    const stats =
      wanted === "as-norm"
        ? topKStats(cohortScores(vector, cohort), topK, new Set([v.speakerId]))
        : undefined;
    return { speakerId: v.speakerId, vector, stats };
  });
  const normalised = voiceprints.length > 0 && voiceprints.every((v) => v.stats !== undefined);
  return {
    normalisation: normalised ? "as-norm" : "none",
    centring: space === undefined ? "none" : "household",
    space,
    topK,
    voiceprints: normalised ? voiceprints : voiceprints.map((v) => ({ ...v, stats: undefined })),
    cohort,
  };
}

export interface ScoredCandidate {
  readonly speakerId: string;
  /** Cosine, in the household's centred space when the index is centred. */
  readonly raw: number;
  /** On the index's scale: AS-norm, or the cosine again. */
  readonly score: number;
  /** The raw cosine this candidate would need for a normalised score of `t`. */
  readonly rawAt: (t: number) => number;
}

/** Every voiceprint's score for a probe, best first (on the index's scale). */
export function scoreProbe(index: ScoringIndex, probe: Vector): ScoredCandidate[] {
  const unit = centre(probe, index.space);
  const sorted = index.normalisation === "as-norm" ? cohortScores(unit, index.cohort) : [];
  return index.voiceprints
    .map((v) => {
      const raw = dot(unit, v.vector);
      const test = v.stats === undefined ? undefined : topKStats(sorted, index.topK, new Set([v.speakerId]));
      if (v.stats === undefined || test === undefined) {
        return { speakerId: v.speakerId, raw, score: raw, rawAt: (t: number) => t };
      }
      const enrol = v.stats;
      return {
        speakerId: v.speakerId,
        raw,
        score: asNorm(raw, enrol, test),
        rawAt: (t: number) => rawFor(t, enrol, test),
      };
    })
    .sort((a, b) => b.score - a.score || a.speakerId.localeCompare(b.speakerId));
}
