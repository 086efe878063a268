import { type Static, Type } from "@sinclair/typebox";
import { CalibratedScoringSchema, ProbeQualitySchema } from "./calibration.js";
import {
  Count,
  Id,
  Milliseconds,
  Name,
  oneOf,
  Score,
  SourceSchema,
  strictObject,
  Timestamp,
} from "./common.js";
import { eventsOf, onSubject } from "./define.js";
import { ErrorCodeSchema, ErrorPayloadSchema } from "./error.js";
import { MODELS, ModelRefSchema } from "./model.js";

const speakerEvent = eventsOf("speaker", "SPEAKERS");

export const SpeakerRefSchema = strictObject({ id: Id, name: Name });
export type SpeakerRef = Static<typeof SpeakerRefSchema>;

export const CandidateSchema = strictObject({ speakerId: Id, name: Name, score: Score });
export type Candidate = Static<typeof CandidateSchema>;

/**
 * A candidate as stored in events (ADR 0004): the speaker's opaque candidate ref, never their id or name. The
 * registry alone maps a ref to a speaker, and erasure destroys that mapping, so another voice's stored
 * identification that ranked an erased speaker keeps its scores but names nobody.
 */
export const CandidateRefSchema = strictObject({
  ref: Type.String({ pattern: "^ref_[a-f0-9]{20}$" }),
  score: Score,
});
export type CandidateRef = Static<typeof CandidateRefSchema>;

export const DecisionSchema = oneOf(["known", "unknown"]);
export type Decision = Static<typeof DecisionSchema>;

export const SpeakerIdentifiedSchema = strictObject({
  sourceEventId: Id,
  embeddingEventId: Id,
  decision: DecisionSchema,
  /** Present when the decision is `known`. */
  speaker: Type.Optional(SpeakerRefSchema),
  score: Score,
  margin: Type.Number({ minimum: 0, maximum: 2, description: "best score minus the runner-up's" }),
  threshold: Score,
  marginThreshold: Type.Number({ minimum: 0, maximum: 2 }),
  candidates: Type.Array(CandidateRefSchema, {
    maxItems: 5,
    description: "best first, by candidate ref (a speaker's `ref` in the registry while they exist)",
  }),
  model: ModelRefSchema,
  source: Type.Optional(SourceSchema),
  capturedAt: Type.Optional(Timestamp),
  /** The calibrated decision rule that produced `decision` (ADR 0003). */
  scoring: Type.Optional(CalibratedScoringSchema),
  quality: Type.Optional(ProbeQualitySchema),
  /** The clip was added to the speaker's samples by opt-in adaptation. */
  adapted: Type.Optional(Type.Boolean()),
});
export type SpeakerIdentified = Static<typeof SpeakerIdentifiedSchema>;

export const SpeakerIdentified = speakerEvent("SpeakerIdentified", "identified", {
  description: "The registry matched an embedding against the voiceprints of the live model.",
  ...onSubject("speaker.identified"),
  schema: SpeakerIdentifiedSchema,
  fixture: {
    sourceEventId: "0b6f3c1e-6a0e-4b8e-9a53-7d2f0c9e4a11",
    embeddingEventId: "emb-2f1c7c5d0b0f4bde8c8e1f6b9b2a4d3c5e6f7a8b",
    decision: "known",
    speaker: { id: "spk_01HZX3K9Q2", name: "Alice" },
    score: 0.82,
    margin: 0.31,
    threshold: 0.7,
    marginThreshold: 0.1,
    candidates: [
      { ref: "ref_5c1d9e0a7b3f2a6c8d41", score: 0.82 },
      { ref: "ref_e07b42c9a1d36f58b0c2", score: 0.51 },
    ],
    model: { ...MODELS.ecapa },
    source: { service: "audio-capture", deviceId: "kitchen-satellite", room: "kitchen" },
    capturedAt: "2026-11-23T18:04:05.250Z",
    scoring: {
      scale: "as-norm",
      score: 3.4,
      threshold: 2.4,
      margin: 1.9,
      marginThreshold: 0.3,
      bin: "short",
      source: "calibration",
      confidence: 0.97,
    },
    quality: { speechSeconds: 1.8, snrDb: 14.5 },
  },
});

export const SpeakerProvisionalSchema = strictObject({
  sourceEventId: Type.String({
    ...Id,
    description: "ce-id of the `audio.captured` the whole utterance is published as when it ends",
  }),
  decision: DecisionSchema,
  speaker: Type.Optional(SpeakerRefSchema),
  score: Score,
  margin: Type.Number({ minimum: 0, maximum: 2 }),
  threshold: Score,
  marginThreshold: Type.Number({ minimum: 0, maximum: 2 }),
  candidates: Type.Array(CandidateSchema, { maxItems: 5, description: "best first" }),
  model: ModelRefSchema,
  /** How much audio (and of it, speech) the guess is based on; the final one uses the whole utterance. */
  audioMs: Milliseconds,
  speechMs: Milliseconds,
  source: Type.Optional(SourceSchema),
  capturedAt: Type.Optional(Timestamp),
});
export type SpeakerProvisional = Static<typeof SpeakerProvisionalSchema>;

export const SpeakerProvisional = speakerEvent("SpeakerProvisional", "provisional", {
  description:
    "An early guess at who is speaking, from the first second or two of an utterance still streaming in. The final `speaker.identified` for the same `sourceEventId` follows and wins; this one changes no state.",
  ...onSubject("speaker.provisional"),
  schema: SpeakerProvisionalSchema,
  fixture: {
    sourceEventId: "0b6f3c1e-6a0e-4b8e-9a53-7d2f0c9e4a11",
    decision: "known",
    speaker: { id: "spk_01HZX3K9Q2", name: "Alice" },
    score: 0.78,
    margin: 0.22,
    threshold: 0.7,
    marginThreshold: 0.1,
    candidates: [
      { speakerId: "spk_01HZX3K9Q2", name: "Alice", score: 0.78 },
      { speakerId: "spk_01HZX3M1B7", name: "Bob", score: 0.56 },
    ],
    model: { ...MODELS.ecapa },
    audioMs: 1600,
    speechMs: 1500,
    source: { service: "wyoming-bridge", deviceId: "wyoming-kitchen", room: "kitchen" },
    capturedAt: "2026-11-23T18:04:05.250Z",
  },
});

export const SpeakerEnrolledSchema = strictObject({
  speakerId: Id,
  name: Name,
  model: ModelRefSchema,
  samples: Type.Integer({ minimum: 1, description: "samples in the new voiceprint" }),
  enrollmentId: Type.Optional(Id),
});
export type SpeakerEnrolled = Static<typeof SpeakerEnrolledSchema>;

export const SpeakerEnrolled = speakerEvent("SpeakerEnrolled", "enrolled", {
  description: "A new speaker has a voiceprint and can be identified.",
  ...onSubject("speaker.enrolled"),
  schema: SpeakerEnrolledSchema,
  fixture: {
    speakerId: "spk_01HZX3K9Q2",
    name: "Alice",
    model: { ...MODELS.ecapa },
    samples: 3,
    enrollmentId: "enr_01HZX3JZ0P",
  },
});

/** What an update changed; one event per change so plugins can react to exactly what they care about. */
export const SpeakerChangeSchema = Type.Union([
  strictObject({ kind: Type.Literal("renamed"), from: Name, to: Name }),
  strictObject({ kind: Type.Literal("sample-added"), sampleId: Id }),
  strictObject({ kind: Type.Literal("sample-removed"), sampleId: Id }),
  strictObject({
    kind: Type.Literal("voiceprint-rebuilt"),
    model: ModelRefSchema,
    samples: Type.Integer({ minimum: 1 }),
  }),
]);
export type SpeakerChange = Static<typeof SpeakerChangeSchema>;

export const SpeakerUpdatedSchema = strictObject({
  speakerId: Id,
  name: Name,
  change: SpeakerChangeSchema,
  samples: Type.Optional(Count),
});
export type SpeakerUpdated = Static<typeof SpeakerUpdatedSchema>;

export const SpeakerUpdated = speakerEvent("SpeakerUpdated", "updated", {
  description: "A speaker was renamed, gained or lost a sample, or had a voiceprint rebuilt.",
  ...onSubject("speaker.updated"),
  schema: SpeakerUpdatedSchema,
  fixture: {
    speakerId: "spk_01HZX3K9Q2",
    name: "Alice Smith",
    change: { kind: "renamed", from: "Alice", to: "Alice Smith" },
    samples: 3,
  },
});

export const ErasedSchema = strictObject({ samples: Count, voiceprints: Count, clips: Count });

/** No name: the event outlives the speaker, and erasure leaves nothing that names them (ADR 0004). */
export const SpeakerDeletedSchema = strictObject({ speakerId: Id, erased: ErasedSchema });
export type SpeakerDeleted = Static<typeof SpeakerDeletedSchema>;

export const SpeakerDeleted = speakerEvent("SpeakerDeleted", "deleted", {
  description:
    "A speaker was erased: samples, voiceprints, clips, and every event and record that named them.",
  ...onSubject("speaker.deleted"),
  schema: SpeakerDeletedSchema,
  fixture: {
    speakerId: "spk_01HZX3M1B7",
    erased: { samples: 4, voiceprints: 2, clips: 4 },
  },
});

export const EnrollmentStageSchema = oneOf([
  "receiving",
  "embedding",
  "checking",
  "saving",
  "done",
  "failed",
]);
export type EnrollmentStage = Static<typeof EnrollmentStageSchema>;

/** Feedback on one enrollment sample; `code` says why it was rejected (an `ENROLL_*` or `AUDIO_*` code). */
export const SampleFeedbackSchema = strictObject({
  index: Count,
  sampleId: Type.Optional(Id),
  accepted: Type.Boolean(),
  code: Type.Optional(ErrorCodeSchema),
  durationMs: Type.Optional(Milliseconds),
  speechMs: Type.Optional(Milliseconds),
  similarity: Type.Optional(Score),
});
export type SampleFeedback = Static<typeof SampleFeedbackSchema>;

export const EnrollmentResultSchema = strictObject({
  outcome: oneOf(["enrolled", "failed"]),
  samplesAccepted: Count,
  samplesRejected: Count,
  error: Type.Optional(ErrorPayloadSchema),
});
export type EnrollmentResult = Static<typeof EnrollmentResultSchema>;

export const EnrollmentProgressSchema = strictObject({
  enrollmentId: Id,
  speakerId: Id,
  done: Count,
  total: Count,
  stage: EnrollmentStageSchema,
  quality: Type.Array(SampleFeedbackSchema, { maxItems: 100 }),
  final: Type.Optional(EnrollmentResultSchema),
});
export type EnrollmentProgress = Static<typeof EnrollmentProgressSchema>;

export const EnrollmentProgress = speakerEvent("EnrollmentProgress", "enrollment-progress", {
  description: "Progress of an enrollment, with feedback on each sample so far and the result when done.",
  ...onSubject("speaker.enrollment.progress"),
  schema: EnrollmentProgressSchema,
  fixture: {
    enrollmentId: "enr_01HZX3JZ0P",
    speakerId: "spk_01HZX3K9Q2",
    done: 3,
    total: 3,
    stage: "done",
    quality: [
      { index: 0, sampleId: "smp_1", accepted: true, durationMs: 6100, speechMs: 5400, similarity: 0.78 },
      { index: 1, accepted: false, code: "ENROLL_TOO_LITTLE_SPEECH", durationMs: 5200, speechMs: 900 },
      { index: 2, sampleId: "smp_3", accepted: true, durationMs: 7000, speechMs: 6300, similarity: 0.81 },
    ],
    final: { outcome: "enrolled", samplesAccepted: 2, samplesRejected: 1 },
  },
});
