/**
 * Open-set identification: score one embedding against every voiceprint of its model, then accept the best
 * only when it clears the threshold AND beats the runner-up by the margin. Nearest-neighbour alone would name
 * a stranger after whoever sounds least unlike them.
 */
import type { ModelPolicy } from "./policy.js";
import { dot, l2Normalize, type Vector } from "./vectors.js";

export interface ScoredVoiceprint {
  readonly speakerId: string;
  readonly vector: Vector;
}

export interface Candidate {
  readonly speakerId: string;
  readonly score: number;
}

export type UnknownReason = "no-voiceprints" | "below-threshold" | "ambiguous";

export interface Decision {
  readonly decision: "known" | "unknown";
  /** The accepted speaker, only when known. */
  readonly speakerId: string | undefined;
  /** Best score (cosine), or undefined when there was nothing to compare with. */
  readonly score: number | undefined;
  /** Best minus runner-up; the best score itself when there is no runner-up. */
  readonly margin: number | undefined;
  readonly threshold: number;
  readonly requiredMargin: number;
  readonly reason: UnknownReason | undefined;
  /** Best first. */
  readonly candidates: readonly Candidate[];
}

/** Scores, best first; voiceprints are stored normalized but are normalized again so a stray one cannot skew. */
export function rank(vector: Vector, voiceprints: readonly ScoredVoiceprint[]): Candidate[] {
  const probe = l2Normalize(vector);
  return voiceprints
    .map((v) => ({ speakerId: v.speakerId, score: dot(probe, l2Normalize(v.vector)) }))
    .sort((a, b) => b.score - a.score || a.speakerId.localeCompare(b.speakerId));
}

/** The decision over ranked candidates (best first); `topK` only trims what is reported. */
export function decide(candidates: readonly Candidate[], policy: ModelPolicy, topK = 5): Decision {
  const best = candidates[0];
  const runnerUp = candidates[1];
  const base = {
    threshold: policy.threshold,
    requiredMargin: policy.margin,
    candidates: candidates.slice(0, Math.max(0, topK)),
  };
  if (best === undefined) {
    return {
      ...base,
      decision: "unknown",
      speakerId: undefined,
      score: undefined,
      margin: undefined,
      reason: "no-voiceprints",
    };
  }
  // With a single enrolled voice there is no runner-up; its margin is measured against "nobody" (score 0),
  // and a best score below 0 has no margin at all.
  const margin = Math.max(0, best.score - (runnerUp?.score ?? 0));
  const reason: UnknownReason | undefined =
    best.score < policy.threshold ? "below-threshold" : margin < policy.margin ? "ambiguous" : undefined;
  return {
    ...base,
    decision: reason === undefined ? "known" : "unknown",
    speakerId: reason === undefined ? best.speakerId : undefined,
    score: best.score,
    margin,
    reason,
  };
}
