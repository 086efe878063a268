/**
 * Adaptive symmetric score normalisation (AS-norm, Matejka et al. 2017). A raw cosine means different things
 * for different voices and recordings: a probe from a noisy kitchen scores lower against everyone, and a voice
 * that sounds like many others scores higher against everyone. AS-norm measures both sides against a cohort
 * of other voices, keeping only the k closest (the part of the cohort that could be confused with them):
 *
 *   s' = ((s - mean_e) / std_e + (s - mean_t) / std_t) / 2
 *
 * where (mean_e, std_e) are over the top-k cohort scores of the voiceprint and (mean_t, std_t) over those of
 * the probe. The cohort is what a household has: the other enrolled speakers' sample embeddings (a candidate's
 * own are always left out of its statistics), voices it heard and did not know, and an imported bank.
 */
import { dot, type Vector } from "./vectors.js";

export interface CohortEntry {
  /** The speaker it belongs to; undefined for an unknown or imported voice. */
  readonly speakerId: string | undefined;
  /** L2-normalised. */
  readonly vector: Vector;
}

export interface NormStats {
  readonly mean: number;
  readonly std: number;
}

/** Below this many cohort scores the statistics are noise; normalisation is then switched off. */
export const MIN_COHORT = 10;
export const DEFAULT_TOP_K = 50;

/** Scores of `vector` against every cohort entry, best first, with the speaker each belongs to. */
export function cohortScores(
  vector: Vector,
  cohort: readonly CohortEntry[],
): { score: number; speakerId: string | undefined }[] {
  return cohort
    .map((c) => ({ score: dot(vector, c.vector), speakerId: c.speakerId }))
    .sort((a, b) => b.score - a.score);
}

/**
 * Mean and deviation of the top-k of pre-sorted cohort scores, skipping the entries of `exclude` (speakers
 * whose own samples must not judge them); undefined when fewer than MIN_COHORT remain.
 */
export function topKStats(
  sorted: readonly { score: number; speakerId: string | undefined }[],
  topK: number,
  exclude: ReadonlySet<string>,
): NormStats | undefined {
  const chosen: number[] = [];
  for (const s of sorted) {
    if (s.speakerId !== undefined && exclude.has(s.speakerId)) continue;
    chosen.push(s.score);
    if (chosen.length >= topK) break;
  }
  if (chosen.length < Math.min(MIN_COHORT, topK)) return undefined;
  const mean = chosen.reduce((a, b) => a + b, 0) / chosen.length;
  const variance = chosen.reduce((a, b) => a + (b - mean) ** 2, 0) / chosen.length;
  // A floor keeps a cohort of near-identical scores from blowing a small difference up to a huge score.
  return { mean, std: Math.max(Math.sqrt(variance), 1e-3) };
}

export function asNorm(raw: number, enrol: NormStats, test: NormStats): number {
  return 0.5 * ((raw - enrol.mean) / enrol.std + (raw - test.mean) / test.std);
}

/** The raw cosine at which a normalised score equals `normalised`: the threshold in cosine terms. */
export function rawFor(normalised: number, enrol: NormStats, test: NormStats): number {
  const slope = 0.5 * (1 / enrol.std + 1 / test.std);
  return (normalised + 0.5 * (enrol.mean / enrol.std + test.mean / test.std)) / slope;
}
