import { type Static, Type } from "@sinclair/typebox";
import { AudioEncodingSchema, Channels, SampleRate } from "./audio.js";
import { CalibratedScoringSchema, ProbeQualitySchema } from "./calibration.js";
import {
  Count,
  Id,
  Milliseconds,
  Name,
  oneOf,
  Score,
  strictObject,
  Timestamp,
  Vector,
  vectorDim,
} from "./common.js";
import { messagesOf } from "./define.js";
import { ErrorCodeSchema } from "./error.js";
import { MODELS, ModelRefSchema } from "./model.js";
import {
  CandidateSchema,
  DecisionSchema,
  EnrollmentResultSchema,
  ErasedSchema,
  SampleFeedbackSchema,
  SpeakerRefSchema,
} from "./speaker.js";

const registryMessage = messagesOf("registry");

/**
 * Request and reply payloads of the TS `registry` micro service (`speakers.registry.*`). Requests with
 * audio follow ADR rule 3: the audio is the body, these `*Meta` shapes ride in Speakers-Meta.
 */

const audioMetaProperties = {
  format: Type.Optional(AudioEncodingSchema),
  sampleRate: Type.Optional(SampleRate),
  channels: Type.Optional(Channels),
  path: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
};

const at = "2026-11-23T18:00:00.000Z";

/** An Object Store entry holding audio. */
export const StoredClipSchema = strictObject({
  bucket: Id,
  name: Type.String({ minLength: 1, maxLength: 1024 }),
});
export type StoredClip = Static<typeof StoredClipSchema>;

export const SpeakerSummarySchema = strictObject({
  id: Id,
  name: Name,
  samples: Count,
  /** Model keys (`<id>@<revision>`) this speaker has a voiceprint for. */
  voiceprints: Type.Array(Type.String({ minLength: 1, maxLength: 400 })),
  /** Enough speech over enough samples (the enrollment policy); an incomplete speaker is still identified. */
  complete: Type.Optional(Type.Boolean()),
  /** How `speaker.identified` events name this speaker among the candidates (ADR 0004). */
  ref: Type.Optional(Type.String({ pattern: "^ref_[a-f0-9]{20}$" })),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type SpeakerSummary = Static<typeof SpeakerSummarySchema>;

const aliceSummary: SpeakerSummary = {
  id: "spk_01HZX3K9Q2",
  name: "Alice",
  samples: 3,
  voiceprints: ["speechbrain/spkrec-ecapa-voxceleb@0f99f2d0ebe89ac095bcc5903c4dd8f72b367286"],
  createdAt: at,
  updatedAt: at,
};

export const SpeakerSummary = registryMessage("SpeakerSummary", "speaker-summary", {
  description: "One speaker, as `rename` and `samples.remove` reply and as listed by `list`.",
  schema: SpeakerSummarySchema,
  fixture: aliceSummary,
});

export const IdentifyMetaSchema = strictObject({
  ...audioMetaProperties,
  topK: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
  /**
   * A what-if: identify as if these speakers were not enrolled, under a calibration computed without them
   * (an eval's held-out stranger). Nothing is stored or published.
   */
  excludeSpeakers: Type.Optional(Type.Array(Id, { maxItems: 100 })),
});
export type IdentifyMeta = Static<typeof IdentifyMetaSchema>;

export const IdentifyMeta = registryMessage("IdentifyMeta", "identify-meta", {
  description: "`identify` request: audio as the body, this in Speakers-Meta.",
  body: "audio",
  schema: IdentifyMetaSchema,
  fixture: { format: "wav", topK: 3 },
});

export const UnknownReasonSchema = oneOf(["no-voiceprints", "below-threshold", "ambiguous"]);
export type UnknownReason = Static<typeof UnknownReasonSchema>;

export const IdentifyReplySchema = strictObject({
  decision: DecisionSchema,
  speaker: Type.Optional(SpeakerRefSchema),
  score: Score,
  margin: Type.Number({ minimum: 0, maximum: 2 }),
  threshold: Score,
  marginThreshold: Type.Number({ minimum: 0, maximum: 2 }),
  candidates: Type.Array(CandidateSchema, { maxItems: 5 }),
  model: ModelRefSchema,
  durationMs: Type.Optional(Milliseconds),
  /** Why the decision is `unknown`. */
  reason: Type.Optional(UnknownReasonSchema),
  /** The calibrated decision rule that produced `decision` (ADR 0003). */
  scoring: Type.Optional(CalibratedScoringSchema),
  quality: Type.Optional(ProbeQualitySchema),
});
export type IdentifyReply = Static<typeof IdentifyReplySchema>;

export const IdentifyReply = registryMessage("IdentifyReply", "identify-reply", {
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
    reason: "below-threshold",
  },
});

export const VerifyMetaSchema = strictObject({
  ...audioMetaProperties,
  speakerId: Id,
  threshold: Type.Optional(Score),
});
export type VerifyMeta = Static<typeof VerifyMetaSchema>;

export const VerifyMeta = registryMessage("VerifyMeta", "verify-meta", {
  description: "`verify` request: is this audio the given speaker? Audio as the body, this in Speakers-Meta.",
  body: "audio",
  schema: VerifyMetaSchema,
  fixture: { format: "flac", speakerId: "spk_01HZX3K9Q2" },
});

export const VerifyReplySchema = strictObject({
  speakerId: Id,
  name: Name,
  match: Type.Boolean(),
  score: Score,
  threshold: Score,
  model: ModelRefSchema,
});
export type VerifyReply = Static<typeof VerifyReplySchema>;

export const VerifyReply = registryMessage("VerifyReply", "verify-reply", {
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

/**
 * One enrollment sample. Exactly one source: `length` > 0 bytes of the body; a `clip` the client already put in
 * the Object Store (large files: the body of one request is capped by the server's max payload; the registry
 * owns the clip from then on and deletes it unless the sample is accepted); an earlier
 * `audio.captured` event by `eventId` (naming a voice the house already heard); or a `path` the worker reads
 * (local mode only; no copy of the audio is kept).
 */
export const EnrollItemSchema = strictObject({
  length: Type.Integer({
    minimum: 0,
    description: "bytes of this sample in the body; 0 for other sources",
  }),
  ...audioMetaProperties,
  clip: Type.Optional(StoredClipSchema),
  eventId: Type.Optional(Id),
  /** Shown back in feedback and kept as the sample's origin (e.g. the file name the user gave). */
  label: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
});
export type EnrollItem = Static<typeof EnrollItemSchema>;

const enrollProperties = {
  items: Type.Array(EnrollItemSchema, { minItems: 1, maxItems: 50 }),
  /** Chosen by the client so it can follow `speaker.enrollment.progress` before sending; default: generated. */
  enrollmentId: Type.Optional(Id),
};

export const EnrollMetaSchema = strictObject({
  name: Name,
  /** Fail with SPEAKER_EXISTS instead of adding samples when a speaker already has this name. */
  createOnly: Type.Optional(Type.Boolean()),
  ...enrollProperties,
});
export type EnrollMeta = Static<typeof EnrollMetaSchema>;

export const EnrollMeta = registryMessage("EnrollMeta", "enroll-meta", {
  description:
    "`enroll` request (creates the speaker, or adds to the one with this name): inline samples concatenated in the body, every sample described here in Speakers-Meta.",
  body: "audio",
  schema: EnrollMetaSchema,
  fixture: {
    name: "Alice",
    enrollmentId: "enr_01HZX3JZ0P",
    items: [
      { length: 192044, format: "wav", label: "alice-01.wav" },
      { length: 0, clip: { bucket: "audio-clips", name: "uploads/enr_01HZX3JZ0P/1.flac" }, format: "flac" },
      { length: 0, eventId: "0b6f3c1e-6a0e-4b8e-9a53-7d2f0c9e4a11" },
      { length: 0, path: "/data/enroll/alice-03.wav" },
    ],
  },
});

/** Advice on the enrollment as a whole or on one sample (`index`), with a catalogue code. */
export const EnrollFeedbackSchema = strictObject({
  index: Type.Optional(Count),
  code: ErrorCodeSchema,
  message: Type.String({ minLength: 1, maxLength: 2000 }),
  hint: Type.Optional(Type.String({ maxLength: 2000 })),
});
export type EnrollFeedback = Static<typeof EnrollFeedbackSchema>;

const enrollReplyProperties = {
  enrollmentId: Id,
  result: EnrollmentResultSchema,
  quality: Type.Array(SampleFeedbackSchema),
  /** What to do about rejected samples and about the speaker as a whole (e.g. record more speech). */
  feedback: Type.Array(EnrollFeedbackSchema),
  /** Enough speech over enough samples for a reliable voiceprint. */
  complete: Type.Boolean(),
};

export const EnrollReplySchema = strictObject({
  ...enrollReplyProperties,
  speaker: Type.Optional(SpeakerSummarySchema),
});
export type EnrollReply = Static<typeof EnrollReplySchema>;

export const EnrollReply = registryMessage("EnrollReply", "enroll-reply", {
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
    feedback: [
      {
        index: 2,
        code: "ENROLL_SAMPLE_CLOSER_TO_OTHER",
        message: 'Sample sounds more like enrolled speaker "Bob" (0.812) than like this speaker (0.310).',
        hint: "Make sure the right person is speaking; if so, record longer samples in a quieter room.",
      },
      {
        code: "ENROLL_TOO_LITTLE_SPEECH",
        message: "The speaker has 8.5 s of speech in 2 sample(s); add samples until there are 10.0 s over 3.",
      },
    ],
    complete: false,
  },
});

export const ListRequestSchema = strictObject({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  offset: Type.Optional(Count),
  /** Only the speaker with this name (case-insensitive), to turn a name a user typed into an id. */
  name: Type.Optional(Name),
});
export type ListRequest = Static<typeof ListRequestSchema>;

export const ListRequest = registryMessage("ListRequest", "list-request", {
  description: "`list` request; an empty object lists the first page.",
  schema: ListRequestSchema,
  fixture: { limit: 50, offset: 0 },
});

export const ListReplySchema = strictObject({ speakers: Type.Array(SpeakerSummarySchema), total: Count });
export type ListReply = Static<typeof ListReplySchema>;

export const ListReply = registryMessage("ListReply", "list-reply", {
  description: "`list` reply, sorted by name.",
  schema: ListReplySchema,
  fixture: { speakers: [aliceSummary], total: 1 },
});

export const SpeakerIdRequestSchema = strictObject({
  speakerId: Id,
  /** `get` only: include the raw sample embeddings and voiceprint vectors, which are left out otherwise. */
  includeEmbeddings: Type.Optional(Type.Boolean()),
});
export type SpeakerIdRequest = Static<typeof SpeakerIdRequestSchema>;

export const SpeakerIdRequest = registryMessage("SpeakerIdRequest", "speaker-id-request", {
  description: "`get` and `delete` request.",
  schema: SpeakerIdRequestSchema,
  fixture: { speakerId: "spk_01HZX3K9Q2", includeEmbeddings: false },
});

export const SampleOriginSchema = Type.Union([
  strictObject({ kind: Type.Literal("upload"), label: Type.Optional(Type.String({ maxLength: 1024 })) }),
  strictObject({ kind: Type.Literal("path"), path: Type.String({ minLength: 1, maxLength: 4096 }) }),
  strictObject({
    kind: Type.Literal("audio-event"),
    eventId: Id,
    seq: Type.Optional(Type.Integer({ minimum: 1 })),
  }),
]);
export type SampleOrigin = Static<typeof SampleOriginSchema>;

export const SampleInfoSchema = strictObject({
  sampleId: Id,
  addedAt: Timestamp,
  durationMs: Type.Optional(Milliseconds),
  speechMs: Type.Optional(Milliseconds),
  origin: Type.Optional(SampleOriginSchema),
  clip: Type.Optional(StoredClipSchema),
  /** Model keys this sample has an embedding for. */
  models: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 400 }))),
  /** Only with `includeEmbeddings`. */
  embeddings: Type.Optional(
    Type.Array(strictObject({ model: ModelRefSchema, vector: Vector }, vectorDim("/vector", "/model/dim"))),
  ),
});
export type SampleInfo = Static<typeof SampleInfoSchema>;

export const VoiceprintInfoSchema = strictObject({
  model: ModelRefSchema,
  samples: Count,
  updatedAt: Timestamp,
  /** Only with `includeEmbeddings`. */
  vector: Type.Optional(Vector),
});
export type VoiceprintInfo = Static<typeof VoiceprintInfoSchema>;

export const SpeakerDetailSchema = strictObject({
  speaker: SpeakerSummarySchema,
  samples: Type.Array(SampleInfoSchema),
  voiceprints: Type.Array(VoiceprintInfoSchema),
});
export type SpeakerDetail = Static<typeof SpeakerDetailSchema>;

export const SpeakerDetail = registryMessage("SpeakerDetail", "speaker-detail", {
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

export const RenameRequestSchema = strictObject({ speakerId: Id, name: Name });
export type RenameRequest = Static<typeof RenameRequestSchema>;

export const RenameRequest = registryMessage("RenameRequest", "rename-request", {
  description: "`rename` request; the reply is a SpeakerSummary.",
  schema: RenameRequestSchema,
  fixture: { speakerId: "spk_01HZX3K9Q2", name: "Alice Smith" },
});

export const DeleteReplySchema = strictObject({ speakerId: Id, name: Name, erased: ErasedSchema });
export type DeleteReply = Static<typeof DeleteReplySchema>;

export const DeleteReply = registryMessage("DeleteReply", "delete-reply", {
  description: "`delete` reply: what was erased.",
  schema: DeleteReplySchema,
  fixture: { speakerId: "spk_01HZX3M1B7", name: "Bob", erased: { samples: 4, voiceprints: 2, clips: 4 } },
});

export const SamplesAddMetaSchema = strictObject({ speakerId: Id, ...enrollProperties });
export type SamplesAddMeta = Static<typeof SamplesAddMetaSchema>;

export const SamplesAddMeta = registryMessage("SamplesAddMeta", "samples-add-meta", {
  description: "`samples.add` request: like `enroll`, for an existing speaker id.",
  body: "audio",
  schema: SamplesAddMetaSchema,
  fixture: { speakerId: "spk_01HZX3K9Q2", items: [{ length: 180044, format: "wav" }] },
});

/** `samples.add` replies like `enroll`, always with the speaker. */
export const SamplesAddReplySchema = strictObject({
  ...enrollReplyProperties,
  speaker: SpeakerSummarySchema,
});
export type SamplesAddReply = Static<typeof SamplesAddReplySchema>;

export const SamplesAddReply = registryMessage("SamplesAddReply", "samples-add-reply", {
  description: "`samples.add` reply: the updated speaker and feedback per sample.",
  schema: SamplesAddReplySchema,
  fixture: {
    enrollmentId: "enr_01HZX3Q7C1",
    speaker: { ...aliceSummary, samples: 4, complete: true },
    result: { outcome: "enrolled", samplesAccepted: 1, samplesRejected: 0 },
    quality: [{ index: 0, sampleId: "smp_4", accepted: true, durationMs: 5600, similarity: 0.74 }],
    feedback: [],
    complete: true,
  },
});

export const SamplesRemoveRequestSchema = strictObject({ speakerId: Id, sampleId: Id });
export type SamplesRemoveRequest = Static<typeof SamplesRemoveRequestSchema>;

export const SamplesRemoveRequest = registryMessage("SamplesRemoveRequest", "samples-remove-request", {
  description: "`samples.remove` request; the reply is a SpeakerSummary.",
  schema: SamplesRemoveRequestSchema,
  fixture: { speakerId: "spk_01HZX3K9Q2", sampleId: "smp_2" },
});

export const RebuildVoiceprintsRequestSchema = strictObject({
  model: ModelRefSchema,
  /** Re-embed samples that already have an embedding of this model (default: keep them). */
  force: Type.Optional(Type.Boolean()),
});
export type RebuildVoiceprintsRequest = Static<typeof RebuildVoiceprintsRequestSchema>;

export const RebuildVoiceprintsRequest = registryMessage(
  "RebuildVoiceprintsRequest",
  "rebuild-voiceprints-request",
  {
    description:
      "`voiceprints.rebuild` request: embed every speaker's stored enrollment audio with this model (not the live one) and rebuild that model's voiceprints.",
    schema: RebuildVoiceprintsRequestSchema,
    fixture: { model: { ...MODELS.ecapa } },
  },
);

export const RebuiltSpeakerSchema = strictObject({
  speakerId: Id,
  name: Name,
  /** Samples of this speaker (any model). */
  samples: Count,
  /** Samples newly embedded with the model by this request. */
  embedded: Count,
  /** Samples whose audio could not be embedded (clip gone, bad audio); codes in `errors`. */
  failed: Count,
  errors: Type.Optional(Type.Array(ErrorCodeSchema, { maxItems: 100 })),
  /** The speaker has a voiceprint for the model afterwards. */
  voiceprint: Type.Boolean(),
});
export type RebuiltSpeaker = Static<typeof RebuiltSpeakerSchema>;

export const RebuildVoiceprintsReplySchema = strictObject({
  model: ModelRefSchema,
  speakers: Type.Array(RebuiltSpeakerSchema),
  durationMs: Milliseconds,
});
export type RebuildVoiceprintsReply = Static<typeof RebuildVoiceprintsReplySchema>;

export const RebuildVoiceprintsReply = registryMessage(
  "RebuildVoiceprintsReply",
  "rebuild-voiceprints-reply",
  {
    description:
      "`voiceprints.rebuild` reply: per speaker, what was embedded and whether a voiceprint exists.",
    schema: RebuildVoiceprintsReplySchema,
    fixture: {
      model: { ...MODELS.ecapa },
      speakers: [
        { speakerId: "spk_01HZX3K9Q2", name: "Alice", samples: 3, embedded: 3, failed: 0, voiceprint: true },
        {
          speakerId: "spk_01HZX3M1B7",
          name: "Bob",
          samples: 2,
          embedded: 1,
          failed: 1,
          errors: ["AUDIO_OBJECT_NOT_FOUND"],
          voiceprint: true,
        },
      ],
      durationMs: 5320,
    },
  },
);

export const ModelUseRequestSchema = strictObject({
  model: Type.String({
    minLength: 1,
    maxLength: 200,
    description: "A model name (ecapa, ge2e) or key (<id>@<revision>, <id>@local-<hash>)",
  }),
});
export type ModelUseRequest = Static<typeof ModelUseRequestSchema>;

export const ModelUseRequest = registryMessage("ModelUseRequest", "model-use-request", {
  description:
    "`model.use` request: make this model the live one. Errors: INVALID_REQUEST (not a model this system knows), NO_VOICEPRINT (no voiceprints of it yet: replay first), WORKER_UNAVAILABLE (no worker of it answers).",
  schema: ModelUseRequestSchema,
  fixture: { model: "ecapa" },
});

export const ModelUseReplySchema = strictObject({
  /** The live model before the switch; absent when none was stored yet. */
  from: Type.Optional(ModelRefSchema),
  to: ModelRefSchema,
  /** Speakers with a voiceprint of the new live model. */
  voiceprints: Count,
});
export type ModelUseReply = Static<typeof ModelUseReplySchema>;

export const ModelUseReply = registryMessage("ModelUseReply", "model-use-reply", {
  description: "`model.use` reply: the live model before and after, and how many voiceprints it has.",
  schema: ModelUseReplySchema,
  fixture: { from: { ...MODELS.ge2e }, to: { ...MODELS.ecapa }, voiceprints: 3 },
});
