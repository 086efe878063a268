/** Pure evaluation metrics over cosine scores; no I/O so they can be checked against hand-made numbers. */

import { countBelow } from "@speakers/scoring";

export interface EqualErrorRate {
  /** The error rate where false accepts equal false rejects (mean of the two at the closest threshold). */
  readonly eer: number;
  /** The score threshold at which it happens (accept when score >= threshold). */
  readonly threshold: number;
}

/**
 * Sweeps every observed score as a threshold. At threshold t a genuine trial is rejected when its score < t
 * and an impostor trial is accepted when its score >= t.
 */
export function equalErrorRate(genuine: readonly number[], impostor: readonly number[]): EqualErrorRate {
  if (genuine.length === 0 || impostor.length === 0) {
    throw new RangeError("equalErrorRate needs at least one genuine and one impostor score");
  }
  const g = [...genuine].sort((a, b) => a - b);
  const i = [...impostor].sort((a, b) => a - b);
  const thresholds = [...new Set([...g, ...i, Number.POSITIVE_INFINITY])].sort((a, b) => a - b);
  let best: { gap: number; eer: number; threshold: number } | undefined;
  for (const t of thresholds) {
    const frr = countBelow(g, t) / g.length;
    const far = (i.length - countBelow(i, t)) / i.length;
    const gap = Math.abs(far - frr);
    if (best === undefined || gap < best.gap) best = { gap, eer: (far + frr) / 2, threshold: t };
  }
  // best is set: thresholds always holds +Infinity
  return { eer: best?.eer ?? 1, threshold: best?.threshold ?? Number.POSITIVE_INFINITY };
}

export interface OpenSetTrial {
  /** The speaker who really speaks. */
  readonly truth: string;
  /** Whether that speaker's voiceprint was in the registry for this trial (false: a held-out stranger). */
  readonly enrolled: boolean;
  /** The registry's answer: a speaker id, or undefined for unknown. */
  readonly decided: string | undefined;
}

export interface OpenSetRates {
  /** Strangers accepted as someone: false accepts / stranger trials. */
  readonly far: number;
  /** Enrolled speakers not accepted as themselves (unknown or someone else) / enrolled trials. */
  readonly frr: number;
  readonly strangerTrials: number;
  readonly enrolledTrials: number;
}

export function openSetRates(trials: readonly OpenSetTrial[]): OpenSetRates {
  let strangers = 0;
  let falseAccepts = 0;
  let enrolled = 0;
  let falseRejects = 0;
  for (const t of trials) {
    if (t.enrolled) {
      enrolled++;
      if (t.decided !== t.truth) falseRejects++;
    } else {
      strangers++;
      if (t.decided !== undefined) falseAccepts++;
    }
  }
  return {
    far: strangers === 0 ? 0 : falseAccepts / strangers,
    frr: enrolled === 0 ? 0 : falseRejects / enrolled,
    strangerTrials: strangers,
    enrolledTrials: enrolled,
  };
}

/** Share of trials whose best-scoring speaker is the right one (closed-set rank-1 accuracy). */
export function rankOneAccuracy(trials: readonly { truth: string; best: string | undefined }[]): number {
  if (trials.length === 0) return 0;
  return trials.filter((t) => t.best === t.truth).length / trials.length;
}
