import { type Static, Type } from "@sinclair/typebox";
import { Count, oneOf, strictObject, Timestamp, Vector } from "./common.js";
import { messagesOf } from "./define.js";
import { MODELS, ModelRefSchema } from "./model.js";

const registryMessage = messagesOf("registry");

/**
 * What a household's decision rule learns from besides enrollment (ADR 0003): opt-in voiceprint adaptation
 * (identifications well above the calibrated threshold become `adapted` samples) and the AS-norm cohort's
 * other sources, the unknown voices the registry heard and a cohort bank a user imports. Per model; kept in
 * KV `registry-state`.
 */

export const AdaptationRequestSchema = strictObject({
  /** Default: the live model. */
  model: Type.Optional(ModelRefSchema),
  /** Switch adaptation on or off for this model (kept); absent: only report. */
  enabled: Type.Optional(Type.Boolean()),
});
export type AdaptationRequest = Static<typeof AdaptationRequestSchema>;

export const AdaptationRequest = registryMessage("AdaptationRequest", "adaptation-request", {
  description: "`adaptation` request: report, or switch, opt-in voiceprint adaptation for a model.",
  schema: AdaptationRequestSchema,
  fixture: { enabled: true },
});

export const AdaptationReplySchema = strictObject({
  model: ModelRefSchema,
  enabled: Type.Boolean(),
  /** `setting`: switched for this model; `environment`: SPEAKERS_ADAPTATION, no setting stored. */
  source: oneOf(["setting", "environment"]),
  /** Adapted samples kept per speaker at most; the oldest is replaced first. */
  capPerSpeaker: Count,
  /** Adapted samples the model's speakers hold now. */
  adaptedSamples: Count,
});
export type AdaptationReply = Static<typeof AdaptationReplySchema>;

export const AdaptationReply = registryMessage("AdaptationReply", "adaptation-reply", {
  description: "`adaptation` reply: whether a model adapts its voiceprints, and how many samples it adapted.",
  schema: AdaptationReplySchema,
  fixture: {
    model: { ...MODELS.ge2e },
    enabled: true,
    source: "setting",
    capPerSpeaker: 20,
    adaptedSamples: 7,
  },
});

export const CohortImportRequestSchema = strictObject({
  /** Default: the live model. */
  model: Type.Optional(ModelRefSchema),
  /** Embeddings of the model (its dimension), one chunk of a bank; L2-normalised by the registry. */
  vectors: Type.Array(Vector, { minItems: 1, maxItems: 64 }),
  /** First chunk: replace the stored bank; later chunks append. */
  replace: Type.Optional(Type.Boolean()),
  /** Where the bank came from (a file name), shown by `cohort show`. */
  label: Type.Optional(Type.String({ maxLength: 200 })),
});
export type CohortImportRequest = Static<typeof CohortImportRequestSchema>;

export const CohortImportRequest = registryMessage("CohortImportRequest", "cohort-import-request", {
  description: "`cohort.import` request: one chunk (up to 64 vectors) of an imported AS-norm cohort bank.",
  schema: CohortImportRequestSchema,
  fixture: { vectors: [[0.6, 0.8]], replace: true, label: "bank.npy" },
});

export const CohortRequestSchema = strictObject({ model: Type.Optional(ModelRefSchema) });
export type CohortRequest = Static<typeof CohortRequestSchema>;

export const CohortRequest = registryMessage("CohortRequest", "cohort-request", {
  description: "`cohort.get` and `cohort.clear` request: a model's cohort sources (default: the live model).",
  schema: CohortRequestSchema,
  fixture: { model: { ...MODELS.ge2e } },
});

export const CohortReplySchema = strictObject({
  model: ModelRefSchema,
  /** Vectors of the imported bank. */
  imported: Count,
  importedAt: Type.Optional(Timestamp),
  label: Type.Optional(Type.String({ maxLength: 200 })),
  /** Embeddings of voices heard and decided unknown (a bounded ring, oldest replaced first). */
  unknown: Count,
  unknownCap: Count,
});
export type CohortReply = Static<typeof CohortReplySchema>;

export const CohortReply = registryMessage("CohortReply", "cohort-reply", {
  description: "`cohort.*` reply: what a model's AS-norm cohort holds beside the enrolled speakers' samples.",
  schema: CohortReplySchema,
  fixture: {
    model: { ...MODELS.ge2e },
    imported: 500,
    importedAt: "2026-11-23T18:00:00.000Z",
    label: "bank.npy",
    unknown: 37,
    unknownCap: 200,
  },
});
