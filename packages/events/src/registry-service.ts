import { type Static, Type } from "@sinclair/typebox";
import { AudioEncodingSchema, Channels, SampleRate } from "./audio.js";
import { Count, Id, Milliseconds, Name, Score, Timestamp } from "./common.js";
import { defineMessage } from "./define.js";
import { BatchItemMetaSchema } from "./embedding-service.js";
import { MODELS, ModelRefSchema } from "./model.js";
import {
  CandidateSchema,
  DecisionSchema,
  EnrollmentResultSchema,
  ErasedSchema,
  SampleFeedbackSchema,
  SpeakerRefSchema,
} from "./speaker.js";

/**
 * Request and reply payloads of the TS `registry` micro service (`speakers.registry.*`). Requests with
 * audio follow ADR rule 3: the audio is the body, these `*Meta` shapes ride in Speakers-Meta.
 */
const strict = { additionalProperties: false } as const;

const audioMetaProperties = {
  format: Type.Optional(AudioEncodingSchema),
  sampleRate: Type.Optional(SampleRate),
  channels: Type.Optional(Channels),
  path: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
};

const at = "2026-11-23T18:00:00.000Z";

export const SpeakerSummarySchema = Type.Object(
  {
    id: Id,
    name: Name,
    samples: Count,
    /** Model keys (`<id>@<revision>`) this speaker has a voiceprint for. */
    voiceprints: Type.Array(Type.String({ minLength: 1, maxLength: 400 })),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  strict,
);
export type SpeakerSummary = Static<typeof SpeakerSummarySchema>;

const aliceSummary: SpeakerSummary = {
  id: "spk_01HZX3K9Q2",
  name: "Alice",
  samples: 3,
  voiceprints: ["speechbrain/spkrec-ecapa-voxceleb@0f99f2d0ebe89ac095bcc5903c4dd8f72b367286"],
  createdAt: at,
  updatedAt: at,
};

export const SpeakerSummary = defineMessage({
  name: "SpeakerSummary",
  typeId: "speakers.registry.speaker-summary.v1",
  description: "One speaker, as `rename` and `samples.remove` reply and as listed by `list`.",
  schema: SpeakerSummarySchema,
  fixture: aliceSummary,
});

export const IdentifyMetaSchema = Type.Object(
  { ...audioMetaProperties, topK: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })) },
  strict,
);
export type IdentifyMeta = Static<typeof IdentifyMetaSchema>;

export const IdentifyMeta = defineMessage({
  name: "IdentifyMeta",
  typeId: "speakers.registry.identify-meta.v1",
  description: "`identify` request: audio as the body, this in Speakers-Meta.",
  body: "audio",
  schema: IdentifyMetaSchema,
  fixture: { format: "wav", topK: 3 },
});

export const IdentifyReplySchema = Type.Object(
  {
    decision: DecisionSchema,
    speaker: Type.Optional(SpeakerRefSchema),
    score: Score,
    margin: Type.Number({ minimum: 0, maximum: 2 }),
    threshold: Score,
    marginThreshold: Type.Number({ minimum: 0, maximum: 2 }),
    candidates: Type.Array(CandidateSchema, { maxItems: 5 }),
    model: ModelRefSchema,
    durationMs: Type.Optional(Milliseconds),
  },
  strict,
);
export type IdentifyReply = Static<typeof IdentifyReplySchema>;

export const IdentifyReply = defineMessage({
  name: "IdentifyReply",
  typeId: "speakers.registry.identify-reply.v1",
  description: "`identify` reply.",
  schema: IdentifyReplySchema,
  fixture: {
    decision: "unknown",
    score: 0.42,
    margin: 0.05,
    threshold: 0.7,
    marginThreshold: 0.1,
    candidates: [
      { speakerId: "spk_01HZX3K9Q2", name: "Alice", score: 0.42 },
      { speakerId: "spk_01HZX3M1B7", name: "Bob", score: 0.37 },
    ],
    model: { ...MODELS.ecapa },
    durationMs: 2900,
  },
});

export const VerifyMetaSchema = Type.Object(
  { ...audioMetaProperties, speakerId: Id, threshold: Type.Optional(Score) },
  strict,
);
export type VerifyMeta = Static<typeof VerifyMetaSchema>;

export const VerifyMeta = defineMessage({
  name: "VerifyMeta",
  typeId: "speakers.registry.verify-meta.v1",
  description: "`verify` request: is this audio the given speaker? Audio as the body, this in Speakers-Meta.",
  body: "audio",
  schema: VerifyMetaSchema,
  fixture: { format: "flac", speakerId: "spk_01HZX3K9Q2" },
});

export const VerifyReplySchema = Type.Object(
  { speakerId: Id, name: Name, match: Type.Boolean(), score: Score, threshold: Score, model: ModelRefSchema },
  strict,
);
export type VerifyReply = Static<typeof VerifyReplySchema>;

export const VerifyReply = defineMessage({
  name: "VerifyReply",
  typeId: "speakers.registry.verify-reply.v1",
  description: "`verify` reply.",
  schema: VerifyReplySchema,
  fixture: {
    speakerId: "spk_01HZX3K9Q2",
    name: "Alice",
    match: true,
    score: 0.79,
    threshold: 0.7,
    model: { ...MODELS.ecapa },
  },
});

export const EnrollMetaSchema = Type.Object(
  { name: Name, items: Type.Array(BatchItemMetaSchema, { minItems: 1, maxItems: 20 }) },
  strict,
);
export type EnrollMeta = Static<typeof EnrollMetaSchema>;

export const EnrollMeta = defineMessage({
  name: "EnrollMeta",
  typeId: "speakers.registry.enroll-meta.v1",
  description: "`enroll` request: the samples concatenated in the body, their lengths here in Speakers-Meta.",
  body: "audio",
  schema: EnrollMetaSchema,
  fixture: {
    name: "Alice",
    items: [
      { length: 192044, format: "wav" },
      { length: 210044, format: "wav" },
      { length: 0, path: "/data/enroll/alice-03.wav" },
    ],
  },
});

export const EnrollReplySchema = Type.Object(
  {
    enrollmentId: Id,
    speaker: Type.Optional(SpeakerSummarySchema),
    result: EnrollmentResultSchema,
    quality: Type.Array(SampleFeedbackSchema),
  },
  strict,
);
export type EnrollReply = Static<typeof EnrollReplySchema>;

export const EnrollReply = defineMessage({
  name: "EnrollReply",
  typeId: "speakers.registry.enroll-reply.v1",
  description: "`enroll` reply: the new speaker (when enrolled) and feedback per sample.",
  schema: EnrollReplySchema,
  fixture: {
    enrollmentId: "enr_01HZX3JZ0P",
    speaker: { ...aliceSummary, samples: 2 },
    result: { outcome: "enrolled", samplesAccepted: 2, samplesRejected: 1 },
    quality: [
      { index: 0, sampleId: "smp_1", accepted: true, durationMs: 6000 },
      { index: 1, sampleId: "smp_2", accepted: true, durationMs: 6500 },
      { index: 2, accepted: false, code: "ENROLL_SAMPLE_CLOSER_TO_OTHER", similarity: 0.31 },
    ],
  },
});

export const ListRequestSchema = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), offset: Type.Optional(Count) },
  strict,
);
export type ListRequest = Static<typeof ListRequestSchema>;

export const ListRequest = defineMessage({
  name: "ListRequest",
  typeId: "speakers.registry.list-request.v1",
  description: "`list` request; an empty object lists the first page.",
  schema: ListRequestSchema,
  fixture: { limit: 50, offset: 0 },
});

export const ListReplySchema = Type.Object(
  { speakers: Type.Array(SpeakerSummarySchema), total: Count },
  strict,
);
export type ListReply = Static<typeof ListReplySchema>;

export const ListReply = defineMessage({
  name: "ListReply",
  typeId: "speakers.registry.list-reply.v1",
  description: "`list` reply, sorted by name.",
  schema: ListReplySchema,
  fixture: { speakers: [aliceSummary], total: 1 },
});

export const SpeakerIdRequestSchema = Type.Object({ speakerId: Id }, strict);
export type SpeakerIdRequest = Static<typeof SpeakerIdRequestSchema>;

export const SpeakerIdRequest = defineMessage({
  name: "SpeakerIdRequest",
  typeId: "speakers.registry.speaker-id-request.v1",
  description: "`get` and `delete` request.",
  schema: SpeakerIdRequestSchema,
  fixture: { speakerId: "spk_01HZX3K9Q2" },
});

export const SampleInfoSchema = Type.Object(
  {
    sampleId: Id,
    addedAt: Timestamp,
    durationMs: Type.Optional(Milliseconds),
    clip: Type.Optional(
      Type.Object({ bucket: Id, name: Type.String({ minLength: 1, maxLength: 1024 }) }, strict),
    ),
  },
  strict,
);
export type SampleInfo = Static<typeof SampleInfoSchema>;

export const SpeakerDetailSchema = Type.Object(
  {
    speaker: SpeakerSummarySchema,
    samples: Type.Array(SampleInfoSchema),
    voiceprints: Type.Array(
      Type.Object({ model: ModelRefSchema, samples: Count, updatedAt: Timestamp }, strict),
    ),
  },
  strict,
);
export type SpeakerDetail = Static<typeof SpeakerDetailSchema>;

export const SpeakerDetail = defineMessage({
  name: "SpeakerDetail",
  typeId: "speakers.registry.speaker-detail.v1",
  description: "`get` reply.",
  schema: SpeakerDetailSchema,
  fixture: {
    speaker: aliceSummary,
    samples: [
      {
        sampleId: "smp_1",
        addedAt: at,
        durationMs: 6000,
        clip: { bucket: "audio-clips", name: "enroll/smp_1.wav" },
      },
      { sampleId: "smp_2", addedAt: at },
    ],
    voiceprints: [{ model: { ...MODELS.ecapa }, samples: 3, updatedAt: at }],
  },
});

export const RenameRequestSchema = Type.Object({ speakerId: Id, name: Name }, strict);
export type RenameRequest = Static<typeof RenameRequestSchema>;

export const RenameRequest = defineMessage({
  name: "RenameRequest",
  typeId: "speakers.registry.rename-request.v1",
  description: "`rename` request; the reply is a SpeakerSummary.",
  schema: RenameRequestSchema,
  fixture: { speakerId: "spk_01HZX3K9Q2", name: "Alice Smith" },
});

export const DeleteReplySchema = Type.Object({ speakerId: Id, name: Name, erased: ErasedSchema }, strict);
export type DeleteReply = Static<typeof DeleteReplySchema>;

export const DeleteReply = defineMessage({
  name: "DeleteReply",
  typeId: "speakers.registry.delete-reply.v1",
  description: "`delete` reply: what was erased.",
  schema: DeleteReplySchema,
  fixture: { speakerId: "spk_01HZX3M1B7", name: "Bob", erased: { samples: 4, voiceprints: 2, clips: 4 } },
});

export const SamplesAddMetaSchema = Type.Object(
  { speakerId: Id, items: Type.Array(BatchItemMetaSchema, { minItems: 1, maxItems: 20 }) },
  strict,
);
export type SamplesAddMeta = Static<typeof SamplesAddMetaSchema>;

export const SamplesAddMeta = defineMessage({
  name: "SamplesAddMeta",
  typeId: "speakers.registry.samples-add-meta.v1",
  description:
    "`samples.add` request: samples concatenated in the body, their lengths here in Speakers-Meta.",
  body: "audio",
  schema: SamplesAddMetaSchema,
  fixture: { speakerId: "spk_01HZX3K9Q2", items: [{ length: 180044, format: "wav" }] },
});

export const SamplesAddReplySchema = Type.Object(
  { speaker: SpeakerSummarySchema, quality: Type.Array(SampleFeedbackSchema) },
  strict,
);
export type SamplesAddReply = Static<typeof SamplesAddReplySchema>;

export const SamplesAddReply = defineMessage({
  name: "SamplesAddReply",
  typeId: "speakers.registry.samples-add-reply.v1",
  description: "`samples.add` reply: the updated speaker and feedback per sample.",
  schema: SamplesAddReplySchema,
  fixture: {
    speaker: { ...aliceSummary, samples: 4 },
    quality: [{ index: 0, sampleId: "smp_4", accepted: true, durationMs: 5600, similarity: 0.74 }],
  },
});

export const SamplesRemoveRequestSchema = Type.Object({ speakerId: Id, sampleId: Id }, strict);
export type SamplesRemoveRequest = Static<typeof SamplesRemoveRequestSchema>;

export const SamplesRemoveRequest = defineMessage({
  name: "SamplesRemoveRequest",
  typeId: "speakers.registry.samples-remove-request.v1",
  description: "`samples.remove` request; the reply is a SpeakerSummary.",
  schema: SamplesRemoveRequestSchema,
  fixture: { speakerId: "spk_01HZX3K9Q2", sampleId: "smp_2" },
});
