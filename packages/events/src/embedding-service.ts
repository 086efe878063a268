import { type Static, Type } from "@sinclair/typebox";
import { AudioEncodingSchema, Channels, SampleRate } from "./audio.js";
import { ProbeQualitySchema } from "./calibration.js";
import { Count, Milliseconds, oneOf, strictObject, Vector, vectorDim } from "./common.js";
import { messagesOf } from "./define.js";
import { ErrorPayloadSchema } from "./error.js";
import { MODELS, ModelRefSchema } from "./model.js";

const embeddingServiceMessage = messagesOf("embedding-service");

/** Request and reply payloads of the Python `embedding` micro service (`speakers.embedding.*`). */

const AudioPath = Type.String({
  minLength: 1,
  maxLength: 4096,
  description: "local mode only: read this file, under the worker's configured roots",
});

const audioMetaProperties = {
  format: Type.Optional(AudioEncodingSchema),
  sampleRate: Type.Optional(SampleRate),
  channels: Type.Optional(Channels),
  path: Type.Optional(AudioPath),
};

export const ExtractMetaSchema = strictObject(audioMetaProperties);
export type ExtractMeta = Static<typeof ExtractMetaSchema>;

export const ExtractMeta = embeddingServiceMessage("ExtractMeta", "extract-meta", {
  description: "`extract` request: audio bytes as the body, this in Speakers-Meta.",
  body: "audio",
  schema: ExtractMetaSchema,
  fixture: { format: "pcm_s16le", sampleRate: 16000, channels: 1 },
});

export const BatchItemMetaSchema = strictObject({
  length: Type.Integer({ minimum: 0, description: "bytes of this clip in the body" }),
  ...audioMetaProperties,
});
export type BatchItemMeta = Static<typeof BatchItemMetaSchema>;

export const ExtractBatchMetaSchema = strictObject({
  items: Type.Array(BatchItemMetaSchema, { minItems: 1, maxItems: 256 }),
});
export type ExtractBatchMeta = Static<typeof ExtractBatchMetaSchema>;

export const ExtractBatchMeta = embeddingServiceMessage("ExtractBatchMeta", "extract-batch-meta", {
  description: "`extract-batch` request: clips concatenated in the body, their lengths in Speakers-Meta.",
  body: "audio",
  schema: ExtractBatchMetaSchema,
  fixture: {
    items: [
      { length: 64044, format: "wav" },
      { length: 0, path: "/data/recordings/alice-01.flac" },
      { length: 32000, format: "pcm_s16le", sampleRate: 16000, channels: 1 },
    ],
  },
});

export const EmbeddingResultSchema = strictObject(
  {
    model: ModelRefSchema,
    vector: Vector,
    durationMs: Milliseconds,
    computeMs: Milliseconds,
    /** Voiced speech in the clip (pitch-like periodicity); enrollment refuses a sample with almost none. */
    voicedMs: Type.Optional(Milliseconds),
    /** Speech after voice activity detection, and an SNR estimate (ADR 0003). */
    quality: Type.Optional(ProbeQualitySchema),
  },
  vectorDim("/vector", "/model/dim"),
);
export type EmbeddingResult = Static<typeof EmbeddingResultSchema>;

const fixtureVector = Array.from({ length: MODELS.ecapa.dim }, (_, i) => Math.round(Math.cos(i) * 1e4) / 1e5);

const embeddingResultFixture: EmbeddingResult = {
  model: { ...MODELS.ecapa },
  vector: fixtureVector,
  durationMs: 4000,
  computeMs: 57.25,
};

export const EmbeddingResult = embeddingServiceMessage("EmbeddingResult", "embedding-result", {
  description: "`extract` reply.",
  schema: EmbeddingResultSchema,
  fixture: embeddingResultFixture,
});

export const BatchItemResultSchema = Type.Union([
  strictObject({ index: Count, ok: Type.Literal(true), embedding: EmbeddingResultSchema }),
  strictObject({ index: Count, ok: Type.Literal(false), error: ErrorPayloadSchema }),
]);
export type BatchItemResult = Static<typeof BatchItemResultSchema>;

export const BatchResultSchema = strictObject({
  total: Count,
  processed: Count,
  errorsCount: Count,
  items: Type.Array(BatchItemResultSchema),
});
export type BatchResult = Static<typeof BatchResultSchema>;

export const BatchResult = embeddingServiceMessage("BatchResult", "batch-result", {
  description:
    "`extract-batch` reply: one item per clip, in request order; a bad clip does not fail the batch.",
  schema: BatchResultSchema,
  fixture: {
    total: 2,
    processed: 2,
    errorsCount: 1,
    items: [
      { index: 0, ok: true, embedding: embeddingResultFixture },
      {
        index: 1,
        ok: false,
        error: {
          code: "AUDIO_PATH_NOT_FOUND",
          message: "No audio file exists at /data/recordings/alice-01.flac.",
        },
      },
    ],
  },
});

export const SimilarityRequestSchema = strictObject({ a: Vector, b: Vector });
export type SimilarityRequest = Static<typeof SimilarityRequestSchema>;

export const SimilarityRequest = embeddingServiceMessage("SimilarityRequest", "similarity-request", {
  description: "`similarity` request: two vectors of the same model.",
  schema: SimilarityRequestSchema,
  fixture: { a: [0.1, 0.2, 0.3], b: [0.1, 0.25, 0.28] },
});

export const SimilarityReplySchema = strictObject({ similarity: Type.Number({ minimum: -1, maximum: 1 }) });
export type SimilarityReply = Static<typeof SimilarityReplySchema>;

export const SimilarityReply = embeddingServiceMessage("SimilarityReply", "similarity-reply", {
  description: "`similarity` reply: cosine similarity.",
  schema: SimilarityReplySchema,
  fixture: { similarity: 0.9947 },
});

export const CentroidRequestSchema = strictObject({
  embeddings: Type.Array(Vector, { minItems: 1, maxItems: 1000 }),
});
export type CentroidRequest = Static<typeof CentroidRequestSchema>;

export const CentroidRequest = embeddingServiceMessage("CentroidRequest", "centroid-request", {
  description: "`centroid` request: vectors of one speaker and one model.",
  schema: CentroidRequestSchema,
  fixture: {
    embeddings: [
      [0.6, 0.8, 0],
      [0.8, 0.6, 0],
    ],
  },
});

export const CentroidReplySchema = strictObject(
  { centroid: Vector, dim: Type.Integer({ minimum: 1 }), count: Type.Integer({ minimum: 1 }) },
  vectorDim("/centroid", "/dim"),
);
export type CentroidReply = Static<typeof CentroidReplySchema>;

export const CentroidReply = embeddingServiceMessage("CentroidReply", "centroid-reply", {
  description: "`centroid` reply: the L2-normalised mean.",
  schema: CentroidReplySchema,
  fixture: { centroid: [0.7071067811865475, 0.7071067811865475, 0], dim: 3, count: 2 },
});

export const ModelsReplySchema = strictObject({
  active: ModelRefSchema,
  device: Type.String({ minLength: 1, maxLength: 50 }),
  threads: Type.Integer({ minimum: 1 }),
  available: Type.Array(ModelRefSchema),
});
export type ModelsReply = Static<typeof ModelsReplySchema>;

export const ModelsReply = embeddingServiceMessage("ModelsReply", "models-reply", {
  description: "`models` reply: the loaded model and the ones this worker can load.",
  schema: ModelsReplySchema,
  fixture: {
    active: { ...MODELS.ecapa },
    device: "cpu",
    threads: 2,
    available: [{ ...MODELS.ecapa }, { ...MODELS.ge2e }],
  },
});

/** One simulated household condition an `augment` copy went through (ADR 0003). */
export const AugmentConditionSchema = strictObject({
  /** Seconds of the clean sample the copy was cut from, and where the cut starts. */
  cropSeconds: Type.Number({ minimum: 0 }),
  cropStartSeconds: Type.Number({ minimum: 0 }),
  /** Image-source room (pyroomacoustics): absent when the copy stayed dry. */
  room: Type.Optional(
    strictObject({
      rt60S: Type.Number({ minimum: 0 }),
      distanceM: Type.Number({ minimum: 0 }),
      sizeM: Type.Array(Type.Number({ minimum: 0 }), { minItems: 3, maxItems: 3 }),
    }),
  ),
  noise: oneOf(["none", "white", "pink", "brown", "babble"]),
  snrDb: Type.Optional(Type.Number()),
  gainDb: Type.Number(),
  /** Band-limit (e.g. a cheap microphone or a phone line); absent when full band. */
  bandHz: Type.Optional(Type.Array(Type.Number({ minimum: 0 }), { minItems: 2, maxItems: 2 })),
});
export type AugmentCondition = Static<typeof AugmentConditionSchema>;

const AugmentSourceSchema = strictObject({
  length: Type.Integer({ minimum: 0, description: "bytes of this clip in the body; 0 with a path" }),
  format: Type.Optional(AudioEncodingSchema),
  sampleRate: Type.Optional(SampleRate),
  channels: Type.Optional(Channels),
  path: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
});

export const AugmentMetaSchema = strictObject({
  /** The clean sample to augment: the first bytes of the body (or a path). */
  sample: AugmentSourceSchema,
  /**
   * Other voices of the household to make babble from (never the sample's own speaker), in the body after
   * the sample. Without any, babble is left out and coloured noise is used instead.
   */
  babble: Type.Optional(Type.Array(AugmentSourceSchema, { maxItems: 8 })),
  /** How many augmented copies to embed. */
  copies: Type.Integer({ minimum: 1, maximum: 64 }),
  /** The random seed: the same sample, voices and seed give the same copies. */
  seed: Type.Integer({ minimum: 0, maximum: 4294967295 }),
});
export type AugmentMeta = Static<typeof AugmentMetaSchema>;

export const AugmentMeta = embeddingServiceMessage("AugmentMeta", "augment-meta", {
  description:
    "`augment` request: embed seeded copies of one sample through simulated rooms, noise, gain and band-limits. Audio as the body, this in Speakers-Meta.",
  body: "audio",
  schema: AugmentMetaSchema,
  fixture: {
    sample: { length: 64000, format: "wav" },
    babble: [{ length: 96000, format: "flac" }],
    copies: 8,
    seed: 7,
  },
});

export const AugmentReplySchema = strictObject({
  model: ModelRefSchema,
  /** The clean sample's embedding and quality. */
  clean: EmbeddingResultSchema,
  copies: Type.Array(
    strictObject({
      condition: AugmentConditionSchema,
      vector: Vector,
      durationMs: Milliseconds,
      quality: Type.Optional(ProbeQualitySchema),
    }),
    { maxItems: 64 },
  ),
  computeMs: Milliseconds,
});
export type AugmentReply = Static<typeof AugmentReplySchema>;

export const AugmentReply = embeddingServiceMessage("AugmentReply", "augment-reply", {
  description: "`augment` reply: the clean embedding and one embedding per augmented copy.",
  schema: AugmentReplySchema,
  fixture: {
    model: { ...MODELS.ecapa },
    clean: embeddingResultFixture,
    copies: [
      {
        condition: {
          cropSeconds: 2.5,
          cropStartSeconds: 0.7,
          room: { rt60S: 0.45, distanceM: 2.2, sizeM: [4.1, 3.6, 2.5] },
          noise: "babble",
          snrDb: 9,
          gainDb: -6,
        },
        vector: fixtureVector,
        durationMs: 2500,
        quality: { speechSeconds: 2.2, snrDb: 8.1 },
      },
    ],
    computeMs: 412,
  },
});
