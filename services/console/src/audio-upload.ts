/** What the console accepts as an uploaded sample, and what it tells the registry about it. */
import type { AudioEncoding } from "@speakers/events";
import { SpeakersError } from "@speakers/events";

/** Media types a browser or a phone gives recordings; the worker reads the bytes themselves. */
const KNOWN: Record<string, AudioEncoding | undefined> = {
  "audio/wav": "wav",
  "audio/wave": "wav",
  "audio/x-wav": "wav",
  "audio/vnd.wave": "wav",
  "audio/flac": "flac",
  "audio/x-flac": "flac",
  "audio/ogg": "ogg",
  "audio/opus": "ogg",
  "application/ogg": "ogg",
  // Decoded by the worker when it knows these containers; passed through without a declared format.
  "audio/webm": undefined,
  "video/webm": undefined,
  "audio/mpeg": undefined,
  "audio/mp3": undefined,
  "audio/mp4": undefined,
  "audio/x-m4a": undefined,
  "audio/m4a": undefined,
  "audio/aac": undefined,
  "application/octet-stream": undefined,
};

export const UPLOAD_MEDIA_TYPES = Object.keys(KNOWN);

export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/** The declared format for a media type the console accepts; anything else is AUDIO_UNSUPPORTED_FORMAT. */
export function formatFor(contentType: string | undefined): AudioEncoding | undefined {
  const type = mediaTypeOf(contentType);
  if (!Object.hasOwn(KNOWN, type)) {
    throw new SpeakersError(
      "AUDIO_UNSUPPORTED_FORMAT",
      `Uploads of type ${type || "(none)"} are not accepted.`,
      {
        details: { contentType: type, accepted: UPLOAD_MEDIA_TYPES },
      },
    );
  }
  return KNOWN[type];
}
