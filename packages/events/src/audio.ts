import { type Static, Type } from "@sinclair/typebox";
import { Count, Id, Milliseconds, SourceSchema, strictObject, Timestamp } from "./common.js";
import { eventsOf } from "./define.js";
import { AUDIO_LIMITS } from "./limits.js";
import { subjectToken } from "./model.js";

export type Source = Static<typeof SourceSchema>;
export { SourceSchema };

/**
 * The containers the worker decodes: WAV/FLAC/Ogg (Vorbis or Opus) and raw PCM, plus what people have (issue 12):
 * MP3, WebM (Opus or Vorbis, what browsers record) and MP4/M4A (AAC, phone voice memos).
 */
export const AudioEncodingSchema = Type.Union(
  [
    Type.Literal("wav"),
    Type.Literal("flac"),
    Type.Literal("ogg"),
    Type.Literal("pcm_s16le"),
    Type.Literal("mp3"),
    Type.Literal("webm"),
    Type.Literal("mp4"),
  ],
  { description: "container of the audio bytes; mp4 covers .m4a voice memos" },
);
export type AudioEncoding = Static<typeof AudioEncodingSchema>;

/** File name extensions of audio files, and the encoding each declares (the bytes must agree). */
export const AUDIO_FILE_EXTENSIONS: Readonly<Record<string, Exclude<AudioEncoding, "pcm_s16le">>> = {
  ".wav": "wav",
  ".flac": "flac",
  ".ogg": "ogg",
  ".oga": "ogg",
  ".opus": "ogg",
  ".mp3": "mp3",
  ".webm": "webm",
  ".weba": "webm",
  ".m4a": "mp4",
  ".mp4": "mp4",
};

/** The encodings that are containers (all but raw PCM, which has no header). */
export type AudioContainer = Exclude<AudioEncoding, "pcm_s16le">;

/** The media type an audio event is published with, per container. */
export const AUDIO_CONTAINER_MEDIA_TYPES: Readonly<Record<AudioContainer, string>> = {
  wav: "audio/wav",
  flac: "audio/flac",
  ogg: "audio/ogg",
  mp3: "audio/mpeg",
  webm: "audio/webm",
  mp4: "audio/mp4",
};

/** Media types a client (curl, a browser, a phone) may declare, and the container each one names. */
export const AUDIO_MEDIA_TYPES: Readonly<Record<string, AudioContainer>> = {
  "audio/wav": "wav",
  "audio/wave": "wav",
  "audio/x-wav": "wav",
  "audio/vnd.wave": "wav",
  "audio/flac": "flac",
  "audio/x-flac": "flac",
  "audio/ogg": "ogg",
  "audio/opus": "ogg",
  "application/ogg": "ogg",
  "audio/mpeg": "mp3",
  "audio/mp3": "mp3",
  "audio/webm": "webm",
  "video/webm": "webm",
  "audio/mp4": "mp4",
  "audio/m4a": "mp4",
  "audio/x-m4a": "mp4",
};

/** The encoding a file name declares, or undefined for a name that is not an audio file. */
export function encodingForFile(path: string): AudioEncoding | undefined {
  const dot = path.lastIndexOf(".");
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return dot > slash ? AUDIO_FILE_EXTENSIONS[path.slice(dot).toLowerCase()] : undefined;
}

export const SampleRate = Type.Integer({
  minimum: AUDIO_LIMITS.minSampleRate,
  maximum: AUDIO_LIMITS.maxSampleRate,
});
export const Channels = Type.Integer({ minimum: 1, maximum: AUDIO_LIMITS.maxChannels });

export const AudioFormatSchema = strictObject({
  encoding: AudioEncodingSchema,
  sampleRate: SampleRate,
  channels: Channels,
});
export type AudioFormat = Static<typeof AudioFormatSchema>;

/** Where the audio bytes are: the message body, or an Object Store entry for clips above the inline limit. */
export const AudioRefSchema = Type.Union([
  strictObject({ kind: Type.Literal("inline") }),
  strictObject({
    kind: Type.Literal("object"),
    bucket: Id,
    name: Type.String({ minLength: 1, maxLength: 1024 }),
    digest: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: "e.g. SHA-256=<base64url>" }),
    ),
  }),
]);
export type AudioRef = Static<typeof AudioRefSchema>;

/** Headers cap metadata size, so transcripts are cut here (UTF-16 code units, as JS counts them). */
export const TRANSCRIPT_MAX_LENGTH = 16_384;

const audioEvent = eventsOf("audio", "AUDIO");

/** The subject fields of an event published on `<prefix>.<device token>`, the device of its `source`. */
function perDevice(prefix: string) {
  return {
    filter: `${prefix}.>`,
    subject: (source: string) => `${prefix}.${subjectToken(source)}`,
    subjectFor: (event: { source: { deviceId: string } }) =>
      `${prefix}.${subjectToken(event.source.deviceId)}`,
  };
}

export const AudioCapturedSchema = strictObject({
  source: SourceSchema,
  capturedAt: Timestamp,
  format: AudioFormatSchema,
  durationMs: Type.Optional(Milliseconds),
  bytes: Count,
  transcript: Type.Optional(Type.String({ maxLength: TRANSCRIPT_MAX_LENGTH })),
  transcriptTruncated: Type.Optional(Type.Boolean()),
  audio: AudioRefSchema,
  tags: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 1000 }))),
});
export type AudioCaptured = Static<typeof AudioCapturedSchema>;

export const AudioCaptured = audioEvent("AudioCaptured", "captured", {
  description:
    "A clip was recorded. The audio is the message body (or an Object Store entry); this is its metadata.",
  ...perDevice("audio.captured"),
  body: "audio",
  schema: AudioCapturedSchema,
  fixture: {
    source: { service: "audio-capture", deviceId: "kitchen-satellite", room: "kitchen" },
    capturedAt: "2026-11-23T18:04:05.250Z",
    format: { encoding: "wav", sampleRate: 16000, channels: 1 },
    durationMs: 3200,
    bytes: 102444,
    transcript: "Schalte das Licht im Büro an — bitte.",
    audio: { kind: "inline" },
    tags: { wakeword: "hey_house" },
  },
});

export const AudioTranscribedSchema = strictObject({
  sourceEventId: Type.String({ ...Id, description: "ce-id of the `audio.captured` that was transcribed" }),
  source: SourceSchema,
  capturedAt: Timestamp,
  transcript: Type.String({ maxLength: TRANSCRIPT_MAX_LENGTH }),
  transcriptTruncated: Type.Optional(Type.Boolean()),
  language: Type.Optional(Type.String({ minLength: 1, maxLength: 35 })),
  /** From `audio-stop` to the speech-to-text service's answer. */
  latencyMs: Type.Optional(Milliseconds),
});
export type AudioTranscribed = Static<typeof AudioTranscribedSchema>;

export const AudioTranscribed = audioEvent("AudioTranscribed", "transcribed", {
  description:
    "The transcript of a captured clip, when it arrives after the clip was published (the Wyoming bridge publishes the audio at once, so identification runs while speech-to-text still works).",
  ...perDevice("audio.transcribed"),
  schema: AudioTranscribedSchema,
  fixture: {
    sourceEventId: "0b6f3c1e-6a0e-4b8e-9a53-7d2f0c9e4a11",
    source: { service: "wyoming-bridge", deviceId: "wyoming-kitchen", room: "kitchen" },
    capturedAt: "2026-11-23T18:04:05.250Z",
    transcript: "turn on the kitchen light",
    language: "en",
    latencyMs: 240,
  },
});

/** The `ce-datacontenttype` of an audio body (ADR 0001 rule 3). */
export function audioContentType(format: AudioFormat): string {
  switch (format.encoding) {
    case "wav":
      return "audio/wav";
    case "flac":
      return "audio/flac";
    case "ogg":
      return "audio/ogg";
    case "mp3":
      return "audio/mpeg";
    case "webm":
      return "audio/webm";
    case "mp4":
      return "audio/mp4";
    case "pcm_s16le":
      return `audio/L16;rate=${format.sampleRate};channels=${format.channels}`;
  }
}

/** A transcript cut to the header-safe maximum, never inside a surrogate pair. */
export function clipTranscript(text: string): { transcript: string; transcriptTruncated?: true } {
  if (text.length <= TRANSCRIPT_MAX_LENGTH) return { transcript: text };
  let end = TRANSCRIPT_MAX_LENGTH;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return { transcript: text.slice(0, end), transcriptTruncated: true };
}
