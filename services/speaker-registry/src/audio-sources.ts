/**
 * Turns enrollment items into audio the worker can embed: bytes from the request body, a clip the client put
 * in the Object Store, an earlier `audio.captured` event, or a path the worker reads itself.
 */
import { audioOf, type Bus, getClip } from "@speakers/bus";
import {
  AudioCaptured,
  type AudioEncoding,
  decodeMeta,
  type EnrollItem,
  type ExtractMeta,
  HEADERS,
  OBJECT_STORES,
  type SampleOrigin,
  SpeakersError,
  STREAMS,
  type StoredClip,
} from "@speakers/events";
import { findByEventIds } from "./stream-scan.js";

export interface ResolvedAudio {
  /** Empty for a path the worker reads. */
  bytes: Uint8Array;
  meta: ExtractMeta;
  origin: SampleOrigin;
  /** A clip that already holds this audio (client upload); otherwise the registry stores its own copy. */
  clip?: StoredClip;
  /** File extension for the stored copy. */
  extension: string;
  contentType: string;
}

type Source = "body" | "clip" | "event" | "path";

function sourceOf(item: EnrollItem, index: number): Source {
  const sources: Source[] = [];
  if (item.length > 0) sources.push("body");
  if (item.clip !== undefined) sources.push("clip");
  if (item.eventId !== undefined) sources.push("event");
  if (item.path !== undefined) sources.push("path");
  const [only, ...rest] = sources;
  if (only === undefined || rest.length > 0) {
    throw new SpeakersError(
      "INVALID_REQUEST",
      `Sample ${index} must have exactly one source (length > 0 bytes in the body, clip, eventId or path); it has ${sources.length === 0 ? "none" : sources.join(" and ")}.`,
      { details: { index } },
    );
  }
  return only;
}

/** Checks every item before any audio is fetched, so a malformed request fails fast and whole. */
export function checkItems(items: readonly EnrollItem[], body: Uint8Array): Source[] {
  if (items.length === 0) throw new SpeakersError("INVALID_REQUEST", "Give at least one sample.");
  const sources = items.map(sourceOf);
  const inlineBytes = items.reduce((sum, item) => sum + item.length, 0);
  if (inlineBytes !== body.length) {
    throw new SpeakersError(
      "INVALID_REQUEST",
      `The samples' lengths add up to ${inlineBytes} bytes but the body has ${body.length}.`,
      { details: { declared: inlineBytes, body: body.length } },
    );
  }
  items.forEach((item, index) => {
    if (item.clip !== undefined && item.clip.bucket !== OBJECT_STORES.audioClips.name) {
      throw new SpeakersError(
        "INVALID_REQUEST",
        `Sample ${index} names bucket "${item.clip.bucket}"; enrollment clips live in "${OBJECT_STORES.audioClips.name}".`,
        { details: { index } },
      );
    }
  });
  return sources;
}

const EXTENSIONS: Record<AudioEncoding, string> = {
  wav: "wav",
  flac: "flac",
  ogg: "ogg",
  pcm_s16le: "pcm",
  mp3: "mp3",
  webm: "webm",
  mp4: "m4a",
};
const CONTENT_TYPES: Record<AudioEncoding, string> = {
  wav: "audio/wav",
  flac: "audio/flac",
  ogg: "audio/ogg",
  pcm_s16le: "audio/L16",
  mp3: "audio/mpeg",
  webm: "audio/webm",
  mp4: "audio/mp4",
};

function formatMeta(item: {
  format?: AudioEncoding | undefined;
  sampleRate?: number | undefined;
  channels?: number | undefined;
}): ExtractMeta {
  return {
    ...(item.format === undefined ? {} : { format: item.format }),
    ...(item.sampleRate === undefined ? {} : { sampleRate: item.sampleRate }),
    ...(item.channels === undefined ? {} : { channels: item.channels }),
  };
}

function kind(format: AudioEncoding | undefined): { extension: string; contentType: string } {
  return format === undefined
    ? { extension: "audio", contentType: "application/octet-stream" }
    : { extension: EXTENSIONS[format], contentType: CONTENT_TYPES[format] };
}

export interface AudioResolver {
  resolve(index: number): Promise<ResolvedAudio>;
}

/** Resolves items lazily, one at a time (so progress can be reported per sample); events are looked up once. */
export function audioResolver(bus: Bus, items: readonly EnrollItem[], body: Uint8Array): AudioResolver {
  const sources = checkItems(items, body);
  const offsets: number[] = [];
  let offset = 0;
  for (const item of items) {
    offsets.push(offset);
    offset += item.length;
  }
  let eventSeqs: Promise<Map<string, number>> | undefined;
  const seqOf = async (eventId: string): Promise<number> => {
    eventSeqs ??= findByEventIds(
      bus,
      STREAMS.AUDIO.name,
      new Set(items.flatMap((i) => (i.eventId === undefined ? [] : [i.eventId]))),
    );
    const seq = (await eventSeqs).get(eventId);
    if (seq === undefined) {
      throw new SpeakersError(
        "AUDIO_OBJECT_NOT_FOUND",
        `No audio.captured event with id "${eventId}" is stored.`,
        {
          hint: "The event may be older than the AUDIO stream's retention, or the id is mistyped.",
          details: { eventId },
        },
      );
    }
    return seq;
  };

  return {
    async resolve(index) {
      const item = items[index];
      const source = sources[index];
      if (item === undefined || source === undefined) throw new RangeError(`no sample ${index}`);
      const label = item.label === undefined ? {} : { label: item.label };
      switch (source) {
        case "body": {
          const start = offsets[index] ?? 0;
          return {
            bytes: body.subarray(start, start + item.length),
            meta: formatMeta(item),
            origin: { kind: "upload", ...label },
            ...kind(item.format),
          };
        }
        case "clip": {
          const clip = item.clip as StoredClip;
          return {
            bytes: await getClip(bus, clip.name, { bucket: clip.bucket }),
            meta: formatMeta(item),
            origin: { kind: "upload", ...label },
            clip,
            ...kind(item.format),
          };
        }
        case "path":
          return {
            bytes: new Uint8Array(0),
            meta: { ...formatMeta(item), path: item.path as string },
            origin: { kind: "path", path: item.path as string },
            ...kind(item.format),
          };
        case "event":
          return resolveEvent(bus, item.eventId as string, await seqOf(item.eventId as string));
      }
    },
  };
}

async function resolveEvent(bus: Bus, eventId: string, seq: number): Promise<ResolvedAudio> {
  const stored = await bus.jsm.streams.getMessage(STREAMS.AUDIO.name, { seq });
  if (stored === null) {
    throw new SpeakersError("AUDIO_OBJECT_NOT_FOUND", `The audio.captured event "${eventId}" is gone.`, {
      details: { eventId, seq },
    });
  }
  const meta = decodeMeta(AudioCaptured, stored.header.get(HEADERS.meta) || undefined);
  const bytes = await audioOf(bus, meta.audio, stored.data);
  return {
    bytes,
    meta: {
      format: meta.format.encoding,
      sampleRate: meta.format.sampleRate,
      channels: meta.format.channels,
    },
    origin: { kind: "audio-event", eventId, seq },
    ...kind(meta.format.encoding),
  };
}
