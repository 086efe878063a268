/**
 * Erasing a speaker: everything about their voice goes, not just the profile. Samples, voiceprints and the
 * name index are purged from KV with their history; enrollment clips leave the Object Store; and the events
 * that carried their voice (the audio, its embedding, the identification naming them) are erased from the
 * streams, so nothing about that voice can be read back. Stored data is removed before the KV records that
 * point at it, so a delete interrupted half-way can simply be repeated.
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
import { nameKey } from "./store/keys.js";
import { findByEventIds, scanStream } from "./stream-scan.js";

export async function eraseSpeaker(ctx: RegistryContext, speakerId: string): Promise<DeleteReply> {
  const profile = await ctx.store.requireProfile(speakerId);
  const samples = await ctx.store.samples(speakerId, undefined, { copies: true });
  const voiceprints = await ctx.store.voiceprintsOfSpeaker(speakerId);

  let clips = 0;
  const clipNames = new Set(
    samples.flatMap((s) =>
      s.record.clip?.bucket === OBJECT_STORES.audioClips.name ? [s.record.clip.name] : [],
    ),
  );
  for (const name of clipNames) if (await deleteClip(ctx, name)) clips++;

  const history = await speakerHistory(ctx.bus, speakerId);
  const audioIds = new Set(history.sourceEventIds);
  for (const s of samples) if (s.record.origin.kind === "audio-event") audioIds.add(s.record.origin.eventId);
  const embeddings = await findByEventIds(
    ctx.bus,
    STREAMS.EMBEDDINGS.name,
    new Set(history.embeddingEventIds),
  );
  for (const seq of embeddings.values()) await eraseMessage(ctx.bus, STREAMS.EMBEDDINGS.name, seq);
  const audio = await findByEventIds(ctx.bus, STREAMS.AUDIO.name, audioIds);
  for (const seq of audio.values()) {
    clips += await eraseAudioEvent(ctx, seq);
  }
  for (const seq of history.seqs) await eraseMessage(ctx.bus, STREAMS.SPEAKERS.name, seq);

  const { buckets } = ctx.store;
  for (const s of samples) await buckets.samples.purge(s.key);
  for (const v of voiceprints) await ctx.store.purgeVoiceprint(speakerId, v.model);
  if ((await ctx.store.idForName(profile.name)) === speakerId)
    await buckets.profiles.purge(nameKey(profile.name));
  await buckets.profiles.purge(speakerId);

  const erased = {
    samples: new Set(samples.map((s) => s.record.sampleId)).size,
    voiceprints: voiceprints.length,
    clips,
  };
  await publish(ctx.bus, SpeakerDeleted, { speakerId, name: profile.name, erased }, { source: ctx.source });
  ctx.logger.info({ speakerId, erased, events: history.seqs.length, audio: audio.size }, "speaker erased");
  return { speakerId, name: profile.name, erased };
}

interface SpeakerHistory {
  /** SPEAKERS stream sequences of events about this speaker. */
  seqs: number[];
  sourceEventIds: string[];
  embeddingEventIds: string[];
}

/** Events naming the speaker: identifications of their voice or listing them as a candidate, enrollment, updates. */
async function speakerHistory(bus: Bus, speakerId: string): Promise<SpeakerHistory> {
  const out: SpeakerHistory = { seqs: [], sourceEventIds: [], embeddingEventIds: [] };
  const decoder = new TextDecoder();
  await scanStream(bus, STREAMS.SPEAKERS.name, {}, (msg) => {
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(decoder.decode(msg.data)) as Record<string, unknown>;
    } catch {
      return;
    }
    const speaker = data.speaker as { id?: unknown } | undefined;
    if (speaker?.id === speakerId) {
      out.seqs.push(msg.seq);
      if (typeof data.sourceEventId === "string") out.sourceEventIds.push(data.sourceEventId);
      if (typeof data.embeddingEventId === "string") out.embeddingEventIds.push(data.embeddingEventId);
    } else if (data.speakerId === speakerId || listsCandidate(data.candidates, speakerId)) {
      // Another voice's identification that ranked this speaker as a candidate still holds their name and
      // score; it goes too (that voice's audio and embedding stay), since events cannot be rewritten in place.
      out.seqs.push(msg.seq);
    }
  });
  return out;
}

function listsCandidate(candidates: unknown, speakerId: string): boolean {
  return (
    Array.isArray(candidates) &&
    candidates.some((c) => (c as { speakerId?: unknown } | null)?.speakerId === speakerId)
  );
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
