import type { Bus, Logger } from "@speakers/bus";
import type { ModelRef } from "@speakers/events";
import type { ModelPolicy } from "@speakers/scoring";
import type { Embedder } from "./embedder.js";
import type { EnrollmentPolicy } from "./enrollment-policy.js";
import type { HouseholdScoring } from "./household-scoring.js";
import type { HouseholdSources } from "./household-sources.js";
import type { RegistryStore } from "./store/registry-store.js";
import type { StateView } from "./store/state-view.js";

/** What every registry operation works with; built once by createRegistry. */
export interface RegistryContext {
  readonly bus: Bus;
  readonly store: RegistryStore;
  /** KV `registry-state`'s calibrations, their settings and cohort sources, mirrored by a watch. */
  readonly state: StateView;
  readonly embedder: Embedder;
  /** A client bound to one model's subjects: only workers of that model answer it. */
  readonly embedderFor: (model: ModelRef) => Embedder;
  /** The live model now (it changes when `registry-state` does). */
  readonly liveModel: () => ModelRef;
  readonly enrollment: EnrollmentPolicy;
  /** Decision defaults for a model key (overrides applied). */
  readonly policy: (modelKey: string) => ModelPolicy;
  /** The calibrated decision rule and scoring index per model (ADR 0003). */
  readonly scoring: HouseholdScoring;
  /**
   * Decide with the household calibration (ADR 0003) instead of the model's cosine defaults. Off unless
   * SPEAKERS_DECISION=calibrated: on clean reads it still rejects far more than the defaults (see README).
   */
  readonly calibratedDecision: boolean;
  /** Adaptation switches and the cohort's other sources, per model (ADR 0003). */
  readonly sources: HouseholdSources;
  /** Adaptation for a model without its own setting: SPEAKERS_ADAPTATION=on. */
  readonly adaptationByDefault: boolean;
  /** Seeded augmented copies per enrollment sample; 0 switches multi-condition voiceprints off. */
  readonly augmentCopies: number;
  /** ce-source of the events the registry publishes. */
  readonly source: string;
  readonly logger: Logger;
}
