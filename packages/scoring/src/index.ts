/** The decision rule in one place: the registry, replay and the eval all score with this library. */
export { asNorm, type CohortEntry, DEFAULT_TOP_K, MIN_COHORT, type NormStats } from "./as-norm.js";
export {
  binOf,
  type CalibrateInput,
  type CalibrationResult,
  type CalibrationSample,
  calibrate,
  DEFAULT_TARGET_FAR,
  DURATION_BINS,
  type SampleKind,
} from "./calibrate.js";
export {
  type CentredSpace,
  type Centring,
  centre,
  householdSpace,
  MIN_CENTRING_VOICES,
} from "./centring.js";
export {
  countBelow,
  type DetPoint,
  detCurve,
  equalErrorRate,
  fitLogistic,
  type Histogram,
  histogram,
  ratesAt,
  thresholdForFar,
} from "./curves.js";
export {
  type Candidate,
  type Decision,
  decide,
  rank,
  type ScoredVoiceprint,
  type UnknownReason,
} from "./decide.js";
export {
  ECAPA_MODEL_KEY,
  GE2E_MODEL_KEY,
  type ModelPolicy,
  type PolicyOverrides,
  policyFor,
  policyOverridesFromEnv,
} from "./policy.js";
export { type DecisionRule, decideWithRule, type RuleDecision, ruleFor } from "./rule.js";
export {
  buildIndex,
  type IndexedVoiceprint,
  type IndexInput,
  type Normalisation,
  type ScoredCandidate,
  type ScoringIndex,
  scoreProbe,
} from "./scorer.js";
export { cosine, dot, l2Normalize, norm, type Vector, voiceprintOf } from "./vectors.js";
