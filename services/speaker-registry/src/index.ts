export {
  type Candidate,
  type Decision,
  decide,
  rank,
  type ScoredVoiceprint,
  type UnknownReason,
} from "./decide.js";
export type { Embedder } from "./embedder.js";
export {
  DEFAULT_ENROLLMENT_POLICY,
  type EnrollmentPolicy,
  enrollmentPolicyFromEnv,
} from "./enrollment-policy.js";
export {
  LIVE_MODEL_KEY,
  readLiveModel,
  readVoiceprints,
  type SwitchLiveModelDeps,
  setLiveModel,
  switchLiveModel,
  workerCommandFor,
} from "./live-model.js";
export {
  ECAPA_MODEL_KEY,
  GE2E_MODEL_KEY,
  type ModelPolicy,
  type PolicyOverrides,
  policyFor,
  policyOverridesFromEnv,
} from "./model-policy.js";
export {
  type EnrollmentQuality,
  type Feedback,
  type GateCode,
  type GateSample,
  qualityOf,
  runQualityGates,
  type SampleVerdict,
} from "./quality-gates.js";
export { createRegistry, REGISTRY_SOURCE, type Registry, type RegistryDeps } from "./registry.js";
export { cosine, l2Normalize, type Vector, voiceprintOf } from "./vectors.js";
