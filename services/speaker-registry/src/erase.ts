/**
 * Erasing a speaker (ADR 0004): everything of theirs goes, and nobody else's history with it.
 *
 * 1. The fence first: `erased.<id>` in the voiceprints bucket. From then on no replica scores the speaker, and
 *    an identification that scored them just before checks the fence after it published and erases itself
 *    (`eraseIfFenced`), so nothing published during the delete names them afterwards.
 * 2. Their events: identifications of their voice (with that audio and its embedding), enrollment, updates,
 *    dead letters. Other voices' identifications stay: they name candidates only by candidate ref, and the
 *    profile holding the ref is purged last.
 * 3. Every sample entry under the speaker, whatever its kind (clean, augmented, adapted) or origin, every
 *    clip and audio event a sample points at (an adapted sample points at the identified audio event), the
 *    unknown voices kept for the cohort that were closest to them, every clip stored under their enrollment prefix; then voiceprints, name and profile, purged
 *    with their history. Stored data goes before the records that point at it, so an interrupted delete can
 *    be repeated.
 */
import { type Bus, publish } from "@speakers/bus";
import {
  AudioCaptured,
  type DeleteReply,
  decodeMeta,
  HEADERS,
  OBJECT_STORES,
  SpeakerDeleted,
  STREAMS,
} from "@speakers/events";
import type { RegistryContext } from "./context.js";
import { nameKey, speakerFilter } from "./store/keys.js";
import { isCopy } from "./store/records.js";
import { findByEventIds, scanStream } from "./stream-scan.js";

export async function eraseSpeaker(ctx: RegistryContext, speakerId: string): Promise<DeleteReply> {
  const profile = await ctx.store.requireProfile(speakerId);
  await ctx.store.fenceErased(speakerId);
  const { buckets } = ctx.store;
  const sampleKeys = await keysOf(buckets.samples.keys(speakerFilter(speakerId)));
  const samples = await ctx.store.samples(speakerId, undefined, { copies: true });
  const voiceprints = await ctx.store.voiceprintsOfSpeaker(speakerId);
  const refs = referencesIn(samples.map((s) => s.record));

  let clips = 0;
  for (const name of await enrollmentClips(ctx, speakerId, refs.clips))
    if (await deleteClip(ctx, name)) clips++;

  const history = await speakerHistory(ctx.bus, speakerId);
  const audioIds = new Set([...history.sourceEventIds, ...refs.eventIds]);
  const embeddingIds = new Set(history.embeddingEventIds);
  const embeddings = await findByEventIds(ctx.bus, STREAMS.EMBEDDINGS.name, embeddingIds);
  for (const seq of embeddings.values()) await eraseMessage(ctx.bus, STREAMS.EMBEDDINGS.name, seq);
  const audio = await findByEventIds(ctx.bus, STREAMS.AUDIO.name, audioIds);
  for (const seq of audio.values()) clips += await eraseAudioEvent(ctx, seq);
  for (const seq of history.seqs) await eraseMessage(ctx.bus, STREAMS.SPEAKERS.name, seq);
  const dead = await deadLettersOf(ctx.bus, speakerId, new Set([...audioIds, ...embeddingIds]));
  for (const seq of dead) await eraseMessage(ctx.bus, STREAMS.DEADLETTER.name, seq);

  // Every entry under the speaker, including kinds this code does not know how to read.
  for (const key of sampleKeys) await buckets.samples.purge(key);
  // Unknown voices kept for the cohort that were closest to them may be their voice, unrecognised.
  await ctx.sources.forgetNearest(speakerId);
  for (const v of voiceprints) await ctx.store.purgeVoiceprint(speakerId, v.model);
  if ((await ctx.store.idForName(profile.name)) === speakerId)
    await buckets.profiles.purge(nameKey(profile.name));
  await buckets.profiles.purge(speakerId);
  ctx.store.forgetCandidateRef(speakerId);

  const erased = {
    // The samples the household enrolled; their augmented copies and adapted samples go with them and are
    // not counted apart.
    samples: new Set(samples.filter((s) => !isCopy(s.record)).map((s) => s.record.sampleId)).size,
    voiceprints: voiceprints.length,
    clips,
  };
  await publish(ctx.bus, SpeakerDeleted, { speakerId, erased }, { source: ctx.source });
  ctx.logger.info(
    { speakerId, erased, events: history.seqs.length, audio: audio.size, deadLetters: dead.length },
    "speaker erased",
  );
  return { speakerId, name: profile.name, erased };
}

/** An identification just published, with where its inputs are stored. */
export interface PublishedIdentification {
  speakerId: string;
  identifiedSeq: number;
  embeddingSeq: number;
  sourceEventId: string;
  deviceId?: string | undefined;
}

/**
 * The other half of the fence: called after an identification naming `speakerId` was published. If the
 * speaker is now behind the fence (as of the bucket's last revision), this identification scored them
 * before the fence and the erasure's scan may have missed it: it is erased here with its embedding and
 * audio. If not, the fence came later than the publish, so the erasure's scan, which starts after the
 * fence, finds it. Returns true when it erased.
 */
export async function eraseIfFenced(
  ctx: RegistryContext,
  published: PublishedIdentification,
): Promise<boolean> {
  if (!(await ctx.store.isErased(published.speakerId))) return false;
  await eraseMessage(ctx.bus, STREAMS.SPEAKERS.name, published.identifiedSeq);
  await eraseMessage(ctx.bus, STREAMS.EMBEDDINGS.name, published.embeddingSeq);
  const filter = published.deviceId === undefined ? undefined : [AudioCaptured.subject(published.deviceId)];
  const audio = await findByEventIds(ctx.bus, STREAMS.AUDIO.name, new Set([published.sourceEventId]), filter);
  for (const seq of audio.values()) await eraseAudioEvent(ctx, seq);
  ctx.logger.info(
    { speakerId: published.speakerId, sourceEventId: published.sourceEventId },
    "identification raced an erasure; erased it",
  );
  return true;
}

async function keysOf(keys: Promise<AsyncIterable<string>>): Promise<string[]> {
  const out: string[] = [];
  for await (const key of await keys) out.push(key);
  return out;
}

interface References {
  clips: Set<string>;
  eventIds: Set<string>;
}

/**
 * Every clip (`{bucket, name}` in audio-clips) and every event id (`eventId`, `sourceEventId`) anywhere in
 * the sample records, so a sample kind added later (augmented, adapted, ...) is erased with what it came from
 * without this code knowing its shape.
 */
function referencesIn(records: readonly unknown[]): References {
  const out: References = { clips: new Set(), eventIds: new Set() };
  const visit = (value: unknown, key?: string): void => {
    if (Array.isArray(value)) {
      for (const v of value) visit(v);
      return;
    }
    if (value === null || typeof value !== "object") {
      if (typeof value === "string" && (key === "eventId" || key === "sourceEventId"))
        out.eventIds.add(value);
      return;
    }
    const o = value as Record<string, unknown>;
    if (o.bucket === OBJECT_STORES.audioClips.name && typeof o.name === "string") out.clips.add(o.name);
    for (const [k, v] of Object.entries(o)) if (k !== "vector") visit(v, k);
  };
  for (const r of records) visit(r);
  return out;
}

/** Clips the samples point at plus every clip kept under the speaker's enrollment prefix. */
async function enrollmentClips(
  ctx: RegistryContext,
  speakerId: string,
  named: Set<string>,
): Promise<string[]> {
  const prefix = `enroll/${speakerId}/`;
  const out = new Set(named);
  for (const info of await ctx.store.buckets.clips.list()) {
    if (!info.deleted && info.name.startsWith(prefix)) out.add(info.name);
  }
  return [...out];
}

interface SpeakerHistory {
  /** SPEAKERS stream sequences of events about this speaker. */
  seqs: number[];
  sourceEventIds: string[];
  embeddingEventIds: string[];
}

/** The speaker's own events: identifications of their voice, enrollment, progress, updates. */
async function speakerHistory(bus: Bus, speakerId: string): Promise<SpeakerHistory> {
  const out: SpeakerHistory = { seqs: [], sourceEventIds: [], embeddingEventIds: [] };
  await scanStream(bus, STREAMS.SPEAKERS.name, {}, (msg) => {
    const data = jsonOf(msg.data);
    if (data === undefined || !namesSpeaker(data, speakerId)) return;
    out.seqs.push(msg.seq);
    if (typeof data.sourceEventId === "string") out.sourceEventIds.push(data.sourceEventId);
    if (typeof data.embeddingEventId === "string") out.embeddingEventIds.push(data.embeddingEventId);
  });
  return out;
}

/**
 * An event names the speaker when it is about them (`speaker.id`, `speakerId`) or, written before candidate
 * refs, lists them by id among its candidates: such a legacy event cannot be rewritten, so it goes too.
 */
function namesSpeaker(data: Record<string, unknown>, speakerId: string): boolean {
  const speaker = data.speaker as { id?: unknown } | undefined;
  if (speaker?.id === speakerId || data.speakerId === speakerId) return true;
  return (
    Array.isArray(data.candidates) &&
    data.candidates.some((c) => (c as { speakerId?: unknown } | null)?.speakerId === speakerId)
  );
}

/** Dead letters of their events, or of the audio and embeddings of their voice. */
async function deadLettersOf(bus: Bus, speakerId: string, eventIds: ReadonlySet<string>): Promise<number[]> {
  const seqs: number[] = [];
  await scanStream(bus, STREAMS.DEADLETTER.name, {}, (msg) => {
    const id = msg.headers?.get(HEADERS.ceId);
    const data = msg.subject.startsWith("deadletter.speaker.") ? jsonOf(msg.data) : undefined;
    if ((id && eventIds.has(id)) || (data !== undefined && namesSpeaker(data, speakerId))) seqs.push(msg.seq);
  });
  return seqs;
}

const decoder = new TextDecoder();

function jsonOf(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const data: unknown = JSON.parse(decoder.decode(bytes));
    return data !== null && typeof data === "object" ? (data as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Erases the audio message and the Object Store clip it points at; returns how many clips went. */
async function eraseAudioEvent(ctx: RegistryContext, seq: number): Promise<number> {
  let clips = 0;
  const stored = await ctx.bus.jsm.streams.getMessage(STREAMS.AUDIO.name, { seq }).catch(() => null);
  if (stored !== null) {
    try {
      const meta = decodeMeta(AudioCaptured, stored.header.get(HEADERS.meta) || undefined);
      if (meta.audio.kind === "object" && meta.audio.bucket === OBJECT_STORES.audioClips.name) {
        if (await deleteClip(ctx, meta.audio.name)) clips++;
      }
    } catch (err) {
      ctx.logger.warn({ err, seq }, "audio event without readable metadata; erasing the message only");
    }
  }
  await eraseMessage(ctx.bus, STREAMS.AUDIO.name, seq);
  return clips;
}

async function deleteClip(ctx: RegistryContext, name: string): Promise<boolean> {
  try {
    const info = await ctx.store.buckets.clips.info(name);
    if (info === null || info.deleted) return false;
    await ctx.store.buckets.clips.delete(name);
    return true;
  } catch (err) {
    ctx.logger.warn({ err, name }, "clip could not be deleted");
    throw err;
  }
}

/** Overwrites the message on disk (erase), not just marks it deleted. A message already gone is fine. */
async function eraseMessage(bus: Bus, stream: string, seq: number): Promise<void> {
  try {
    await bus.jsm.streams.deleteMessage(stream, seq, true);
  } catch (err) {
    if (!/no message found|not found/i.test(err instanceof Error ? err.message : String(err))) throw err;
  }
}
