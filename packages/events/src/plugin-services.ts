import { type Static, Type } from "@sinclair/typebox";
import { AudioFormatSchema } from "./audio.js";
import { Count, Milliseconds, strictObject } from "./common.js";
import { messagesOf } from "./define.js";
import { EnrollReply, EnrollReplySchema } from "./registry-service.js";
import { CandidateRefSchema } from "./speaker.js";

const presenceMessage = messagesOf("presence");
const unknownVoicesMessage = messagesOf("unknown-voices");

/**
 * Request and reply payloads of the plugins' micro services: `speakers.presence.*` and
 * `speakers.unknown-voices.*` (subjects in SERVICES). The plugins serve them and every client (the console,
 * tests) calls them with these same declarations. Every object is closed, as everywhere in the
 * contract: a field a plugin starts sending is declared here first.
 */
const at = "2026-11-23T18:04:05.250Z";

export const PresenceRecordSchema = strictObject({
  speakerId: Type.String(),
  name: Type.String(),
  room: Type.Optional(Type.String()),
  deviceId: Type.Optional(Type.String()),
  lastHeardAt: Type.String({ description: "RFC 3339" }),
  score: Type.Number(),
  eventId: Type.String({ description: "the speaker.identified event" }),
});
export type PresenceRecord = Static<typeof PresenceRecordSchema>;

const aliceHeard: PresenceRecord = {
  speakerId: "spk_01HZX3K9Q2",
  name: "Alice",
  room: "kitchen",
  deviceId: "kitchen-satellite",
  lastHeardAt: at,
  score: 0.82,
  eventId: "spk-3c5e6f7a8b",
};

export const PresenceRecord = presenceMessage("PresenceRecord", "record", {
  description: "Where and when one speaker was last heard; the `last-heard` reply for one speaker.",
  schema: PresenceRecordSchema,
  fixture: aliceHeard,
});

export const WhoIsHomeRequestSchema = strictObject({
  windowMinutes: Type.Optional(Type.Number({ minimum: 0 })),
});
export type WhoIsHomeRequest = Static<typeof WhoIsHomeRequestSchema>;

export const WhoIsHomeRequest = presenceMessage("WhoIsHomeRequest", "who-is-home-request", {
  description: "`who-is-home` request; the window defaults to the plugin's `homeWindowMinutes`.",
  schema: WhoIsHomeRequestSchema,
  fixture: { windowMinutes: 30 },
});

export const WhoIsHomeReplySchema = strictObject({
  at: Type.String({ description: "RFC 3339" }),
  windowMinutes: Type.Number({ minimum: 0 }),
  home: Type.Array(PresenceRecordSchema),
});
export type WhoIsHomeReply = Static<typeof WhoIsHomeReplySchema>;

export const WhoIsHomeReply = presenceMessage("WhoIsHomeReply", "who-is-home-reply", {
  description: "`who-is-home` reply: speakers heard within the window, most recent first.",
  schema: WhoIsHomeReplySchema,
  fixture: { at, windowMinutes: 30, home: [aliceHeard] },
});

export const LastHeardRequestSchema = strictObject({
  speakerId: Type.Optional(Type.String({ minLength: 1 })),
  name: Type.Optional(Type.String({ minLength: 1 })),
});
export type LastHeardRequest = Static<typeof LastHeardRequestSchema>;

export const LastHeardRequest = presenceMessage("LastHeardRequest", "last-heard-request", {
  description:
    "`last-heard` request: one speaker by id or name (the reply is a PresenceRecord), or neither for everyone (a LastHeardList).",
  schema: LastHeardRequestSchema,
  fixture: { name: "Alice" },
});

export const LastHeardListSchema = strictObject({ speakers: Type.Array(PresenceRecordSchema) });
export type LastHeardList = Static<typeof LastHeardListSchema>;

export const LastHeardList = presenceMessage("LastHeardList", "last-heard-list", {
  description: "`last-heard` reply to an empty request: every speaker heard, most recent first.",
  schema: LastHeardListSchema,
  fixture: { speakers: [aliceHeard] },
});

/** The index entry of one kept unknown clip (the audio is an object of the same name). */
export const UnknownClipSchema = strictObject({
  clipId: Type.String({ minLength: 1 }),
  sourceEventId: Type.String({ minLength: 1 }),
  capturedAt: Type.String({ description: "RFC 3339" }),
  storedAt: Type.String({ description: "RFC 3339" }),
  room: Type.Optional(Type.String()),
  deviceId: Type.Optional(Type.String()),
  contentType: Type.String(),
  format: AudioFormatSchema,
  bytes: Count,
  durationMs: Type.Optional(Milliseconds),
  transcript: Type.Optional(Type.String()),
  /** The closest enrolled voices, best first, by candidate ref (ADR 0004): who it might have been. */
  candidates: Type.Array(CandidateRefSchema),
});
export type UnknownClip = Static<typeof UnknownClipSchema>;

export const UnknownClipListSchema = strictObject({ clips: Type.Array(UnknownClipSchema) });
export type UnknownClipList = Static<typeof UnknownClipListSchema>;

export const UnknownClipList = unknownVoicesMessage("UnknownClipList", "clip-list", {
  description: "`list` reply (the request is empty): the kept clips of unrecognised voices, newest first.",
  schema: UnknownClipListSchema,
  fixture: {
    clips: [
      {
        clipId: "clip-0b6f3c1e-6a0e-4b8e-9a53-7d2f0c9e4a11",
        sourceEventId: "0b6f3c1e-6a0e-4b8e-9a53-7d2f0c9e4a11",
        capturedAt: at,
        storedAt: at,
        room: "hall",
        deviceId: "hall-mic",
        contentType: "audio/flac",
        format: { encoding: "flac", sampleRate: 16000, channels: 1 },
        bytes: 91234,
        durationMs: 2900,
        candidates: [{ ref: "ref_0123456789abcdef0123", score: 0.42 }],
      },
    ],
  },
});

export const ClipRequestSchema = strictObject({ clipId: Type.String({ minLength: 1 }) });
export type ClipRequest = Static<typeof ClipRequestSchema>;

export const ClipRequest = unknownVoicesMessage("ClipRequest", "clip-request", {
  description: "`audio` request (the reply is the clip's bytes) and `delete` request.",
  schema: ClipRequestSchema,
  fixture: { clipId: "clip-0b6f3c1e-6a0e-4b8e-9a53-7d2f0c9e4a11" },
});

export const NameClipRequestSchema = strictObject({
  clipId: Type.String({ minLength: 1 }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
});
export type NameClipRequest = Static<typeof NameClipRequestSchema>;

export const NameClipRequest = unknownVoicesMessage("NameClipRequest", "name-request", {
  description:
    "`name` request: enroll the clip's voice under this name (a new speaker, or a sample of the speaker already so named).",
  schema: NameClipRequestSchema,
  fixture: { clipId: "clip-0b6f3c1e-6a0e-4b8e-9a53-7d2f0c9e4a11", name: "Bob" },
});

export const NameClipReplySchema = strictObject({
  clipId: Type.String({ minLength: 1 }),
  /** False when the registry refused the sample; the clip is kept for another try. */
  enrolled: Type.Boolean(),
  reply: EnrollReplySchema,
});
export type NameClipReply = Static<typeof NameClipReplySchema>;

export const NameClipReply = unknownVoicesMessage("NameClipReply", "name-reply", {
  description: "`name` reply: whether the clip enrolled, with the registry's enroll reply and its feedback.",
  schema: NameClipReplySchema,
  fixture: {
    clipId: "clip-0b6f3c1e-6a0e-4b8e-9a53-7d2f0c9e4a11",
    enrolled: false,
    reply: EnrollReply.fixture,
  },
});

export const ClipDeletedSchema = strictObject({
  clipId: Type.String({ minLength: 1 }),
  deleted: Type.Boolean(),
});
export type ClipDeleted = Static<typeof ClipDeletedSchema>;

export const ClipDeleted = unknownVoicesMessage("ClipDeleted", "clip-deleted", {
  description: "`delete` reply.",
  schema: ClipDeletedSchema,
  fixture: { clipId: "clip-0b6f3c1e-6a0e-4b8e-9a53-7d2f0c9e4a11", deleted: true },
});
