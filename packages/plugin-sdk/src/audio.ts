import type { Bus } from "@speakers/bus";
import { getClip } from "@speakers/bus";
import {
  AudioCaptured,
  type AudioCaptured as AudioCapturedPayload,
  audioContentType,
  decodeMeta,
  HEADERS,
  type Source,
  SpeakersError,
  STREAMS,
} from "@speakers/events";

/** What a speaker event says about the clip it came from (SpeakerIdentified carries all three). */
export interface AudioLookup {
  sourceEventId: string;
  source?: Source | undefined;
  capturedAt?: string | undefined;
}

export interface FetchedAudio {
  eventId: string;
  event: AudioCapturedPayload;
  bytes: Uint8Array;
  contentType: string;
}

/** Publishing happens after capture; clocks and queues make it later, never much earlier. */
const START_SLACK_MS = 60_000;

/**
 * The audio of an earlier `audio.captured` event, by its id. Only the device's subject is scanned (headers
 * only) from a little before the capture time, then the one message is read; Object Store clips are resolved.
 * AUDIO_OBJECT_NOT_FOUND when the event or its clip is no longer stored (retention).
 */
export async function fetchAudio(bus: Bus, lookup: AudioLookup): Promise<FetchedAudio> {
  const filter = lookup.source ? AudioCaptured.subject(lookup.source.deviceId) : AudioCaptured.filter;
  const captured = lookup.capturedAt ? Date.parse(lookup.capturedAt) : Number.NaN;
  const consumer = await bus.js.consumers.get(STREAMS.AUDIO.name, {
    filter_subjects: filter,
    headers_only: true,
    ...(Number.isNaN(captured) ? {} : { opt_start_time: new Date(captured - START_SLACK_MS).toISOString() }),
  });
  let seq: number | undefined;
  try {
    // Ordered consumers end when caught up only if asked: stop at pending 0 or an empty fetch.
    scan: for (;;) {
      let got = 0;
      for await (const msg of await consumer.fetch({ max_messages: 256, expires: 2_000 })) {
        got++;
        if (msg.headers?.get(HEADERS.ceId) === lookup.sourceEventId) {
          seq = msg.seq;
          break scan;
        }
        if (msg.info.pending === 0) break scan;
      }
      if (got === 0) break;
    }
  } finally {
    await consumer.delete().catch(() => {});
  }
  if (seq === undefined) {
    throw new SpeakersError(
      "AUDIO_OBJECT_NOT_FOUND",
      `audio event ${lookup.sourceEventId} is not in ${STREAMS.AUDIO.name}`,
      {
        details: { eventId: lookup.sourceEventId },
      },
    );
  }
  const stored = await bus.jsm.streams.getMessage(STREAMS.AUDIO.name, { seq });
  if (!stored) {
    throw new SpeakersError(
      "AUDIO_OBJECT_NOT_FOUND",
      `audio event ${lookup.sourceEventId} was just removed`,
      {
        details: { eventId: lookup.sourceEventId },
      },
    );
  }
  const event = decodeMeta(AudioCaptured, stored.header.get(HEADERS.meta) || undefined);
  const bytes =
    event.audio.kind === "object"
      ? await getClip(bus, event.audio.name, { bucket: event.audio.bucket })
      : stored.data;
  return {
    eventId: lookup.sourceEventId,
    event,
    bytes,
    contentType: stored.header.get(HEADERS.ceDataContentType) || audioContentType(event.format),
  };
}
