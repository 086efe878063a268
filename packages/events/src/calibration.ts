import { type Static, Type } from "@sinclair/typebox";
import { Count, Id, oneOf, strictObject, Timestamp } from "./common.js";
import { messagesOf } from "./define.js";
import { MODELS, ModelRefSchema } from "./model.js";

const registryMessage = messagesOf("registry");

/**
 * The decision rule a household works out for itself (ADR 0003): score normalisation against a cohort of the
 * household's own voices, and thresholds chosen from its own enrollment samples to hit a target false-accept
 * rate, per model and per amount of speech. Stored in KV `registry-state` under `calibration.<model token>`,
 * served by `speakers.registry.calibration.get`, recomputed by `speakers.registry.calibrate` and after every
 * enrollment change.
 */

/** A rate in [0, 1]. */
const Rate = Type.Number({ minimum: 0, maximum: 1 });

/** The scale a threshold applies to: raw cosine, or AS-norm (a z-score-like value, unbounded). */
export const ScoreScaleSchema = oneOf(["cosine", "as-norm"], {
  description: "cosine: raw cosine similarity; as-norm: adaptive symmetric score normalisation",
});
export type ScoreScale = Static<typeof ScoreScaleSchema>;

/** How much speech a probe holds, after voice activity detection. */
export const DurationBinNameSchema = oneOf(["short", "medium", "long"]);
export type DurationBinName = Static<typeof DurationBinNameSchema>;

export const DurationBinSchema = strictObject({
  name: DurationBinNameSchema,
  /** Speech seconds, inclusive lower bound. */
  minSeconds: Type.Number({ minimum: 0 }),
  /** Speech seconds, exclusive upper bound; absent for the last bin. */
  maxSeconds: Type.Optional(Type.Number({ minimum: 0 })),
  /** Accept when the best (normalised) score is at least this. */
  threshold: Type.Number(),
  genuineTrials: Count,
  impostorTrials: Count,
  /** False-accept and false-reject rates of these trials at `threshold`. */
  far: Rate,
  frr: Rate,
});
export type DurationBin = Static<typeof DurationBinSchema>;

export const DetPointSchema = strictObject({ threshold: Type.Number(), far: Rate, frr: Rate });
export type DetPoint = Static<typeof DetPointSchema>;

export const ScoreHistogramSchema = strictObject({
  /** Bin edges, ascending; bin i holds scores in [edges[i], edges[i+1]). */
  edges: Type.Array(Type.Number(), { minItems: 2, maxItems: 101 }),
  genuine: Type.Array(Count, { maxItems: 100 }),
  impostor: Type.Array(Count, { maxItems: 100 }),
});
export type ScoreHistogram = Static<typeof ScoreHistogramSchema>;

export const CentringSchema = oneOf(["household", "none"], {
  description: "household: subtract the household's mean voice before scoring; none: raw cosines",
});
export type CentringMethod = Static<typeof CentringSchema>;

export const NormalisationSchema = strictObject({
  /** `none` when switched off for this model or when the cohort is too small (see `cohort`). */
  method: oneOf(["as-norm", "none"]),
  /** Top-k cohort scores each side's statistics are taken over. */
  topK: Type.Integer({ minimum: 1 }),
  /**
   * `household`: every vector had the household's mean voice subtracted before scoring (ADR 0003), over
   * `voices` voices (enrolled speakers plus unknown and imported cohort vectors); `none` below the minimum.
   * Absent in records from before centring: none.
   */
  centring: Type.Optional(
    strictObject({
      method: CentringSchema,
      voices: Count,
    }),
  ),
  cohort: strictObject({
    /** Embeddings of the other enrolled speakers (each speaker's own are left out of its statistics). */
    enrolled: Count,
    /** Embeddings of voices the household heard and did not know. */
    unknown: Count,
    /** Embeddings from an imported cohort bank. */
    imported: Count,
  }),
});
export type Normalisation = Static<typeof NormalisationSchema>;

export const CalibrationStatusSchema = Type.Union([
  Type.Literal("calibrated"),
  /** Too few speakers or samples for held-out trials: the model's built-in defaults are used. */
  Type.Literal("default"),
]);

export const CalibrationRecordSchema = strictObject({
  model: ModelRefSchema,
  status: CalibrationStatusSchema,
  /** Why the status is `default`, or other notes on the data. */
  note: Type.Optional(Type.String({ maxLength: 1000 })),
  scale: ScoreScaleSchema,
  normalisation: NormalisationSchema,
  /** The false-accept rate the thresholds were chosen for. */
  targetFar: Rate,
  /** Threshold over all trials (used when a probe's speech duration is unknown). */
  threshold: Type.Number(),
  /** The best must beat the runner-up by this much, on `scale`. */
  margin: Type.Number({ minimum: 0 }),
  /** Per speech-duration bin, short first. */
  bins: Type.Array(DurationBinSchema, { maxItems: 10 }),
  /** Calibrated confidence: P(this speaker) = 1 / (1 + exp(-(a * score + b))), fitted on the trials. */
  confidence: strictObject({ a: Type.Number(), b: Type.Number() }),
  /** Equal error rate of the household's own held-out trials. */
  eer: Rate,
  /** Detection-error trade-off of those trials, by descending threshold. */
  det: Type.Array(DetPointSchema, { maxItems: 200 }),
  histogram: ScoreHistogramSchema,
  /** What the calibration was computed from. */
  source: strictObject({
    speakers: Count,
    /** Clean enrollment samples. */
    samples: Count,
    /** Augmented copies of them (simulated rooms, noise, gain, band-limits, shorter crops). */
    augmentedSamples: Count,
    /** Samples added by opt-in adaptation. */
    adaptedSamples: Count,
    genuineTrials: Count,
    impostorTrials: Count,
    /** Speakers the request left out (e.g. an eval's held-out stranger). */
    excludedSpeakers: Type.Optional(Type.Array(Id, { maxItems: 100 })),
  }),
  computedAt: Timestamp,
  trigger: oneOf(["enrollment", "samples-removed", "speaker-deleted", "adaptation", "request"]),
});
export type CalibrationRecord = Static<typeof CalibrationRecordSchema>;

const at = "2026-11-23T18:00:00.000Z";

const calibrationFixture: CalibrationRecord = {
  model: { ...MODELS.ge2e },
  status: "calibrated",
  scale: "as-norm",
  normalisation: {
    method: "as-norm",
    topK: 50,
    centring: { method: "household", voices: 5 },
    cohort: { enrolled: 144, unknown: 12, imported: 0 },
  },
  targetFar: 0.01,
  threshold: 2.1,
  margin: 0.3,
  bins: [
    {
      name: "short",
      minSeconds: 0,
      maxSeconds: 2,
      threshold: 2.4,
      genuineTrials: 120,
      impostorTrials: 1320,
      far: 0.01,
      frr: 0.2,
    },
    {
      name: "medium",
      minSeconds: 2,
      maxSeconds: 4,
      threshold: 2.2,
      genuineTrials: 120,
      impostorTrials: 1320,
      far: 0.009,
      frr: 0.1,
    },
    {
      name: "long",
      minSeconds: 4,
      threshold: 1.9,
      genuineTrials: 60,
      impostorTrials: 660,
      far: 0.01,
      frr: 0.02,
    },
  ],
  confidence: { a: 2.5, b: -5 },
  eer: 0.05,
  det: [
    { threshold: 3, far: 0, frr: 0.4 },
    { threshold: 2, far: 0.012, frr: 0.08 },
    { threshold: 1, far: 0.1, frr: 0.01 },
  ],
  histogram: { edges: [-2, 0, 2, 4], genuine: [1, 20, 80], impostor: [900, 400, 5] },
  source: {
    speakers: 4,
    samples: 12,
    augmentedSamples: 96,
    adaptedSamples: 0,
    genuineTrials: 300,
    impostorTrials: 3300,
  },
  computedAt: at,
  trigger: "enrollment",
};

export const CalibrationGetRequestSchema = strictObject({ model: Type.Optional(ModelRefSchema) });
export type CalibrationGetRequest = Static<typeof CalibrationGetRequestSchema>;

export const CalibrationGetRequest = registryMessage("CalibrationGetRequest", "calibration-get-request", {
  description: "`calibration.get` request: the stored calibration of this model (default: the live model).",
  schema: CalibrationGetRequestSchema,
  fixture: { model: { ...MODELS.ge2e } },
});

export const CalibrationReplySchema = strictObject({
  model: ModelRefSchema,
  /** The stored calibration; absent until the model has been calibrated. */
  calibration: Type.Optional(CalibrationRecordSchema),
  /** What identification applies now: the calibration's, or the model's defaults without one. */
  inUse: strictObject({
    scale: ScoreScaleSchema,
    threshold: Type.Number(),
    margin: Type.Number({ minimum: 0 }),
    source: oneOf(["calibration", "defaults"]),
  }),
});
export type CalibrationReply = Static<typeof CalibrationReplySchema>;

export const CalibrationReply = registryMessage("CalibrationReply", "calibration-reply", {
  description: "`calibration.get` and `calibrate` reply: the calibration record and the rule in use.",
  schema: CalibrationReplySchema,
  fixture: {
    model: { ...MODELS.ge2e },
    calibration: calibrationFixture,
    inUse: { scale: "as-norm", threshold: 2.1, margin: 0.3, source: "calibration" },
  },
});

export const CalibrateRequestSchema = strictObject({
  /** Default: the live model. */
  model: Type.Optional(ModelRefSchema),
  /** Default: the stored setting, else 0.01. */
  targetFar: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 0.5 })),
  /** Switch AS-norm on or off for this model (kept for later calibrations). */
  normalisation: Type.Optional(oneOf(["as-norm", "none"])),
  /** Switch household centring on or off for this model (kept for later calibrations). */
  centring: Type.Optional(CentringSchema),
  /** Leave these speakers out of trials and cohort; with `dryRun` only (an eval's held-out stranger). */
  excludeSpeakers: Type.Optional(Type.Array(Id, { maxItems: 100 })),
  /** Compute and reply without storing or applying it. */
  dryRun: Type.Optional(Type.Boolean()),
});
export type CalibrateRequest = Static<typeof CalibrateRequestSchema>;

export const CalibrateRequest = registryMessage("CalibrateRequest", "calibrate-request", {
  description:
    "`calibrate` request: recompute the decision rule of a model from the household's own samples.",
  schema: CalibrateRequestSchema,
  fixture: { targetFar: 0.01 },
});

/** Quality of a probe, measured by the worker. */
export const ProbeQualitySchema = strictObject({
  /** Seconds of speech after voice activity detection. */
  speechSeconds: Type.Number({ minimum: 0 }),
  /** Estimated signal-to-noise ratio in dB (speech frames against the quietest frames). */
  snrDb: Type.Optional(Type.Number({ minimum: -100, maximum: 200 })),
});
export type ProbeQuality = Static<typeof ProbeQualitySchema>;

/** The calibrated decision, beside the raw cosine fields of `speaker.identified` and `identify`. */
export const CalibratedScoringSchema = strictObject({
  scale: ScoreScaleSchema,
  /** The best candidate's score on `scale`. */
  score: Type.Number(),
  /** The threshold applied on `scale` (from the probe's duration bin). */
  threshold: Type.Number(),
  /** Best minus runner-up on `scale`, and the margin required. */
  margin: Type.Number(),
  marginThreshold: Type.Number({ minimum: 0 }),
  /** The duration bin whose threshold was used; absent when the speech duration was unknown. */
  bin: Type.Optional(DurationBinNameSchema),
  /** `calibration`: this household's calibration; `defaults`: the model's built-in rule. */
  source: oneOf(["calibration", "defaults"]),
  /** Probability that the best candidate is speaking, from the calibration's logistic fit. */
  confidence: Rate,
});
export type CalibratedScoring = Static<typeof CalibratedScoringSchema>;
