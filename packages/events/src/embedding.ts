import { createHash } from "node:crypto";
import { type Static, Type } from "@sinclair/typebox";
import { ProbeQualitySchema } from "./calibration.js";
import { Id, Milliseconds, SourceSchema, strictObject, Timestamp, Vector, vectorDim } from "./common.js";
import { eventsOf } from "./define.js";
import { ErrorPayloadSchema } from "./error.js";
import { MODELS, ModelRefSchema, modelKey, modelToken } from "./model.js";

type ModelLike = { readonly id: string; readonly revision: string };

const embeddingEvent = eventsOf("embedding", "EMBEDDINGS");

/** The subject fields of an event published on `<prefix>.<model token>`. */
function perModel(prefix: string) {
  return {
    filter: `${prefix}.>`,
    subject: (model: ModelLike) => `${prefix}.${modelToken(model)}`,
    subjectFor: (event: { model: ModelLike }) => `${prefix}.${modelToken(event.model)}`,
  };
}

export const EmbeddingComputedSchema = strictObject(
  {
    sourceEventId: Id,
    source: SourceSchema,
    capturedAt: Type.Optional(Timestamp),
    model: ModelRefSchema,
    vector: Vector,
    durationMs: Milliseconds,
    computeMs: Type.Optional(Milliseconds),
    device: Type.Optional(Type.String({ minLength: 1, maxLength: 50, description: "cpu, cuda:0, ..." })),
    /** Speech after voice activity detection, and an SNR estimate (ADR 0003). */
    quality: Type.Optional(ProbeQualitySchema),
  },
  vectorDim("/vector", "/model/dim"),
);
export type EmbeddingComputed = Static<typeof EmbeddingComputedSchema>;

/** A short fixture vector would not match a real model, so fixtures use the GE2E dimension. */
const fixtureVector = Array.from(
  { length: MODELS.ge2e.dim },
  (_, i) => Math.round(Math.sin(i + 1) * 1e4) / 1e5,
);

export const EmbeddingComputed = embeddingEvent("EmbeddingComputed", "computed", {
  description: "The worker turned one captured clip into a speaker embedding with one model.",
  ...perModel("embedding.computed"),
  schema: EmbeddingComputedSchema,
  fixture: {
    sourceEventId: "0b6f3c1e-6a0e-4b8e-9a53-7d2f0c9e4a11",
    source: { service: "audio-capture", deviceId: "kitchen-satellite", room: "kitchen" },
    capturedAt: "2026-11-23T18:04:05.250Z",
    model: { ...MODELS.ge2e },
    vector: fixtureVector,
    durationMs: 3200,
    computeMs: 41.5,
    device: "cpu",
  },
});

export const EmbeddingFailedSchema = strictObject({
  sourceEventId: Id,
  model: ModelRefSchema,
  error: ErrorPayloadSchema,
});
export type EmbeddingFailed = Static<typeof EmbeddingFailedSchema>;

export const EmbeddingFailed = embeddingEvent("EmbeddingFailed", "failed", {
  description: "The worker could not embed a clip (bad audio, for instance); the input was still acked.",
  ...perModel("embedding.failed"),
  schema: EmbeddingFailedSchema,
  fixture: {
    sourceEventId: "5c1d2e3f-0000-4a4a-8b8b-123456789abc",
    model: { ...MODELS.ecapa },
    error: {
      code: "AUDIO_SILENT",
      message: "The audio contains no audible signal.",
      hint: "Check the microphone's input level and that the right device is recording.",
    },
  },
});

function sha1(text: string): string {
  return createHash("sha1").update(text, "utf8").digest("hex");
}

/** Deterministic id of `embedding.computed`/`failed` (ADR rule 4): `emb-<sha1(sourceEventId|modelKey)>`. */
export function embeddingEventId(sourceEventId: string, model: ModelLike): string {
  return `emb-${sha1(`${sourceEventId}|${modelKey(model)}`)}`;
}

/** Deterministic id of `speaker.identified` (ADR rule 4): `sid-<sha1(embeddingEventId)>`. */
export function identifiedEventId(embeddingEventIdValue: string): string {
  return `sid-${sha1(embeddingEventIdValue)}`;
}
