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
import { dot, l2Normalize, type Vector } from "./vectors.js";

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
  readonly topK: number;
  readonly voiceprints: readonly IndexedVoiceprint[];
  readonly cohort: readonly CohortEntry[];
}

export interface IndexInput {
  readonly voiceprints: readonly { speakerId: string; vector: Vector }[];
  readonly cohort: readonly CohortEntry[];
  readonly normalisation?: Normalisation;
  readonly topK?: number;
}

export function buildIndex(input: IndexInput): ScoringIndex {
  const topK = input.topK ?? DEFAULT_TOP_K;
  const cohort = input.cohort.map((c) => ({ speakerId: c.speakerId, vector: l2Normalize(c.vector) }));
  const wanted = input.normalisation ?? "as-norm";
  const voiceprints = input.voiceprints.map((v) => {
    const vector = l2Normalize(v.vector);
    const stats =
      wanted === "as-norm"
        ? topKStats(cohortScores(vector, cohort), topK, new Set([v.speakerId]))
        : undefined;
    return { speakerId: v.speakerId, vector, stats };
  });
  const normalised = voiceprints.length > 0 && voiceprints.every((v) => v.stats !== undefined);
  return {
    normalisation: normalised ? "as-norm" : "none",
    topK,
    voiceprints: normalised ? voiceprints : voiceprints.map((v) => ({ ...v, stats: undefined })),
    cohort,
  };
}

export interface ScoredCandidate {
  readonly speakerId: string;
  /** Cosine. */
  readonly raw: number;
  /** On the index's scale: AS-norm, or the cosine again. */
  readonly score: number;
  /** The raw cosine this candidate would need for a normalised score of `t`. */
  readonly rawAt: (t: number) => number;
}

/** Every voiceprint's score for a probe, best first (on the index's scale). */
export function scoreProbe(index: ScoringIndex, probe: Vector): ScoredCandidate[] {
  const unit = l2Normalize(probe);
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
