/**
 * The decision a household's calibration makes (ADR 0003): the best candidate on the index's scale must
 * clear the threshold of the probe's speech-duration bin and beat the runner-up by the margin. Without a
 * calibration that fits the index, the model's built-in cosine rule decides, as before.
 */
import type { CalibratedScoring, DurationBinName, ScoreScale } from "@speakers/events";
import { binOf, type CalibrationResult } from "./calibrate.js";
import type { UnknownReason } from "./decide.js";
import type { ModelPolicy } from "./policy.js";
import type { ScoredCandidate, ScoringIndex } from "./scorer.js";

export interface DecisionRule {
  readonly scale: ScoreScale;
  readonly threshold: number;
  readonly margin: number;
  readonly bins: readonly { readonly name: DurationBinName; readonly threshold: number }[];
  readonly confidence: { readonly a: number; readonly b: number };
  readonly source: "calibration" | "defaults";
}

/** The calibration's rule when it was computed on the scale the index scores on; otherwise the defaults. */
export function ruleFor(
  calibration: CalibrationResult | undefined,
  policy: ModelPolicy,
  index: Pick<ScoringIndex, "normalisation" | "centring">,
): DecisionRule {
  const indexScale: ScoreScale = index.normalisation === "as-norm" ? "as-norm" : "cosine";
  const calibratedCentring = calibration?.normalisation.centring?.method ?? "none";
  if (
    calibration?.status === "calibrated" &&
    calibration.scale === indexScale &&
    calibratedCentring === index.centring
  ) {
    return {
      scale: calibration.scale,
      threshold: calibration.threshold,
      margin: calibration.margin,
      bins: calibration.bins.map((b) => ({ name: b.name, threshold: b.threshold })),
      confidence: calibration.confidence,
      source: "calibration",
    };
  }
  // Uncalibrated: a steep logistic centred on the threshold says "about even" there, nothing more.
  return {
    scale: "cosine",
    threshold: policy.threshold,
    margin: policy.margin,
    bins: [],
    confidence: { a: 40, b: -40 * policy.threshold },
    source: "defaults",
  };
}

export interface RuleDecision {
  readonly decision: "known" | "unknown";
  readonly speakerId: string | undefined;
  readonly reason: UnknownReason | undefined;
  readonly scoring: CalibratedScoring;
  /** The same decision in cosine terms, for the fields every consumer already reads. */
  readonly cosine: { score: number; margin: number; threshold: number; marginThreshold: number };
  /** Best first, by the rule's scale; `score` is the cosine. */
  readonly candidates: readonly { speakerId: string; score: number }[];
}

export function decideWithRule(
  ranked: readonly ScoredCandidate[],
  rule: DecisionRule,
  speechSeconds: number | undefined,
  topK = 5,
): RuleDecision {
  const useNorm = rule.scale === "as-norm";
  const value = (c: ScoredCandidate) => (useNorm ? c.score : c.raw);
  const ordered = [...ranked].sort((a, b) => value(b) - value(a) || a.speakerId.localeCompare(b.speakerId));
  const bin = speechSeconds === undefined || rule.bins.length === 0 ? undefined : binOf(speechSeconds);
  const threshold = rule.bins.find((b) => b.name === bin)?.threshold ?? rule.threshold;
  const best = ordered[0];
  const runnerUp = ordered[1];
  const candidates = ordered
    .slice(0, Math.max(0, topK))
    .map((c) => ({ speakerId: c.speakerId, score: c.raw }));
  if (best === undefined) {
    return {
      decision: "unknown",
      speakerId: undefined,
      reason: "no-voiceprints",
      scoring: {
        scale: rule.scale,
        score: 0,
        threshold,
        margin: 0,
        marginThreshold: rule.margin,
        ...(bin === undefined ? {} : { bin }),
        source: rule.source,
        confidence: 0,
      },
      cosine: {
        score: 0,
        margin: 0,
        threshold: useNorm ? 0 : threshold,
        marginThreshold: useNorm ? 0 : rule.margin,
      },
      candidates,
    };
  }
  // As before: a lone voiceprint's margin is measured against "nobody" (0 on either scale).
  const margin = Math.max(0, value(best) - (runnerUp === undefined ? 0 : value(runnerUp)));
  const reason: UnknownReason | undefined =
    value(best) < threshold ? "below-threshold" : margin < rule.margin ? "ambiguous" : undefined;
  const confidence = 1 / (1 + Math.exp(-(rule.confidence.a * value(best) + rule.confidence.b)));
  return {
    decision: reason === undefined ? "known" : "unknown",
    speakerId: reason === undefined ? best.speakerId : undefined,
    reason,
    scoring: {
      scale: rule.scale,
      score: value(best),
      threshold,
      margin,
      marginThreshold: rule.margin,
      ...(bin === undefined ? {} : { bin }),
      source: rule.source,
      confidence: Number.isFinite(confidence) ? confidence : value(best) >= threshold ? 1 : 0,
    },
    cosine: {
      score: best.raw,
      margin: Math.max(0, best.raw - (runnerUp?.raw ?? 0)),
      threshold: useNorm ? best.rawAt(threshold) : threshold,
      marginThreshold: useNorm ? 0 : rule.margin,
    },
    candidates,
  };
}
