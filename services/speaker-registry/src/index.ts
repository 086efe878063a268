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
  type EnrollmentQuality,
  type Feedback,
  type GateCode,
  type GateSample,
  qualityOf,
  runQualityGates,
  type SampleVerdict,
} from "./quality-gates.js";
export { createRegistry, REGISTRY_SOURCE, type Registry, type RegistryDeps } from "./registry.js";
