/** What the console accepts as an uploaded sample, and what it tells the registry about it. */
import { AUDIO_MEDIA_TYPES, type AudioEncoding, SpeakersError } from "@speakers/events";

/** Formats the console declares to the registry; other containers pass through for the worker to sniff. */
const DECLARED = new Set<AudioEncoding>(["wav", "flac", "ogg"]);

/** Media types a browser or a phone gives recordings (the contract's table, plus AAC and untyped uploads). */
const KNOWN: Record<string, AudioEncoding | undefined> = {
  ...Object.fromEntries(
    Object.entries(AUDIO_MEDIA_TYPES).map(([type, container]) => [
      type,
      DECLARED.has(container) ? container : undefined,
    ]),
  ),
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
