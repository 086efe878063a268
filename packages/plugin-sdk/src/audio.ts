import type { MsgRequest, StoredMsg } from "@nats-io/jetstream";
import type { Bus } from "@speakers/bus";
import { audioOf } from "@speakers/bus";
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
  /** How many `audio.captured` messages the lookup read to find it (each one a file-store read on the server). */
  scanned: number;
}

/**
 * Where a lookup starts reading, before the capture time. Capture publishes a clip moments after it was
 * captured, so the first pass starts just before that; only a clip it does not find (a device whose clock runs
 * ahead of the server's) is looked for again from a minute before, up to where the first pass began.
 *
 * Every message a lookup passes costs the server a load of the file-store block that holds it, even for headers
 * only: AUDIO's blocks are 8 MB of audio that stay cached for 10 s after each read. Starting a minute early on
 * every lookup loaded the last minute of audio (~8 blocks at 5 clips/s) per unknown voice and kept
 * nats-server's memory growing with the traffic (ADR 0001, "AUDIO reads").
 */
const START_SLACK_MS = 2_000;
const SKEWED_START_SLACK_MS = 60_000;

/**
 * The audio of an earlier `audio.captured` event, by its id: the device's messages are read one by one from just
 * before the capture time until its id comes up; Object Store clips are resolved.
 * AUDIO_OBJECT_NOT_FOUND when the event or its clip is no longer stored (retention).
 */
export async function fetchAudio(bus: Bus, lookup: AudioLookup): Promise<FetchedAudio> {
  const filter = lookup.source ? AudioCaptured.subject(lookup.source.deviceId) : AudioCaptured.filter;
  const captured = lookup.capturedAt ? Date.parse(lookup.capturedAt) : Number.NaN;
  let found: Found;
  if (Number.isNaN(captured)) {
    found = await readFrom(bus, filter, lookup.sourceEventId, undefined);
  } else {
    found = await readFrom(bus, filter, lookup.sourceEventId, new Date(captured - START_SLACK_MS));
    if (found.stored === undefined) {
      const skewed = await readFrom(
        bus,
        filter,
        lookup.sourceEventId,
        new Date(captured - SKEWED_START_SLACK_MS),
        found.firstSeq,
      );
      found = { ...skewed, scanned: found.scanned + skewed.scanned };
    }
  }
  const { stored, scanned } = found;
  if (stored === undefined) {
    throw new SpeakersError(
      "AUDIO_OBJECT_NOT_FOUND",
      `audio event ${lookup.sourceEventId} is not in ${STREAMS.AUDIO.name}`,
      {
        details: { eventId: lookup.sourceEventId },
      },
    );
  }
  const event = decodeMeta(AudioCaptured, stored.header.get(HEADERS.meta) || undefined);
  const bytes = await audioOf(bus, event.audio, stored.data);
  return {
    eventId: lookup.sourceEventId,
    event,
    bytes,
    contentType: stored.header.get(HEADERS.ceDataContentType) || audioContentType(event.format),
    scanned,
  };
}

interface Found {
  stored?: StoredMsg;
  /** The first sequence the pass read. */
  firstSeq?: number;
  /** How many messages the pass read. */
  scanned: number;
}

/**
 * One pass over `filter`'s messages from `start` (the stream's first message without one) until the event is
 * found, there is no next message, or (`before`) that sequence is reached. Each step is one message get by
 * sequence (`next_by_subj`): the server loads only the block that holds it. No consumer: creating one also has
 * the server count its pending messages from the start to the end of the stream, which can load the blocks in
 * between when a lagging worker makes the lookup minutes late. Without a start (no capture time) this reads the
 * device's whole history, bodies included; `speaker.identified` carries `capturedAt` whenever the audio did.
 */
async function readFrom(
  bus: Bus,
  filter: string,
  eventId: string,
  start: Date | undefined,
  before?: number,
): Promise<Found> {
  let next: number | undefined = 1;
  if (start !== undefined) next = (await getAudio(bus, { start_time: start.toISOString() }))?.seq;
  let scanned = 0;
  let firstSeq: number | undefined;
  while (next !== undefined) {
    const msg = await getAudio(bus, { seq: next, next_by_subj: filter });
    if (msg === null || (before !== undefined && msg.seq >= before)) break;
    scanned++;
    firstSeq ??= msg.seq;
    if (msg.header.get(HEADERS.ceId) === eventId) return { stored: msg, firstSeq, scanned };
    next = msg.seq + 1;
  }
  return { ...(firstSeq === undefined ? {} : { firstSeq }), scanned };
}

/** STREAM.MSG.GET on AUDIO; the client's type leaves out `next_by_subj` and `start_time` (server 2.11). */
function getAudio(
  bus: Bus,
  query: { seq: number; next_by_subj: string } | { start_time: string },
): Promise<StoredMsg | null> {
  return bus.jsm.streams.getMessage(STREAMS.AUDIO.name, query as unknown as MsgRequest);
}
