/**
 * Voiceprints for a model other than the live one, from the enrollment audio the registry keeps: every
 * sample's clip (Object Store) or path is embedded by a worker of that model (its own subjects, so a live
 * worker of another model never answers), stored as that model's sample, and the voiceprint rebuilt. The live
 * model's samples and voiceprints are never written, so identification carries on undisturbed.
 */
import { getClip } from "@speakers/bus";
import type { BatchClip } from "@speakers/embedding-client";
import {
  type ErrorCode,
  isSpeakersError,
  type ModelRef,
  modelKey,
  type RebuildVoiceprintsReply,
  type RebuiltSpeaker,
  SpeakersError,
} from "@speakers/events";
import { audioResolver } from "./audio-sources.js";
import type { RegistryContext } from "./context.js";
import { sampleKey } from "./store/keys.js";
import type { ProfileRecord, SampleRecord } from "./store/records.js";

/** Clips per worker request: enrollment clips are long, and a batch must stay under the max payload. */
const BATCH = 4;
const EMPTY = new Uint8Array(0);

export async function rebuildVoiceprints(
  ctx: RegistryContext,
  liveModel: ModelRef,
  model: ModelRef,
  force = false,
): Promise<RebuildVoiceprintsReply> {
  const started = Date.now();
  if (modelKey(model) === modelKey(liveModel)) {
    throw new SpeakersError(
      "INVALID_REQUEST",
      `${modelKey(model)} is the live model; enrollment maintains its voiceprints.`,
      {
        hint: "Rebuild voiceprints for another model (the one you mean to switch to).",
        details: { model: modelKey(model) },
      },
    );
  }
  const embedder = ctx.embedderFor(model);
  // Fails fast (WORKER_UNAVAILABLE, MODEL_MISMATCH) before any speaker is touched.
  const active = (await embedder.models()).active;
  if (active.dim !== model.dim) {
    throw new SpeakersError(
      "EMBEDDING_DIM_MISMATCH",
      `The worker's ${modelKey(active)} has dim ${active.dim}, not ${model.dim}.`,
    );
  }
  const profiles = (await ctx.store.profiles()).sort(
    (a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id),
  );
  const speakers: RebuiltSpeaker[] = [];
  for (const profile of profiles) speakers.push(await rebuildSpeaker(ctx, profile, model, force));
  return { model, speakers, durationMs: Date.now() - started };
}

async function rebuildSpeaker(
  ctx: RegistryContext,
  profile: ProfileRecord,
  model: ModelRef,
  force: boolean,
): Promise<RebuiltSpeaker> {
  // Enrolled samples, and adapted ones (re-embedded from the audio event they were heard in, while the AUDIO
  // stream keeps it); augmented copies are not re-derived here (ADR 0003).
  const all = (await ctx.store.samples(profile.id, undefined, { copies: true })).filter(
    (s) => s.record.kind !== "augmented",
  );
  // One source record per sample: any model's record carries the same clip and origin.
  const bySample = new Map<string, SampleRecord>();
  const done = new Set<string>();
  for (const { record } of all) {
    if (modelKey(record.model) === modelKey(model)) done.add(record.sampleId);
    else if (!bySample.has(record.sampleId)) bySample.set(record.sampleId, record);
  }
  const todo = [...bySample.values()].filter((r) => force || !done.has(r.sampleId));
  const errors: ErrorCode[] = [];
  let embedded = 0;
  for (let i = 0; i < todo.length; i += BATCH) {
    const chunk = todo.slice(i, i + BATCH);
    const clips: { record: SampleRecord; clip: BatchClip }[] = [];
    for (const record of chunk) {
      try {
        clips.push({ record, clip: await clipOf(ctx, record) });
      } catch (err) {
        if (!isSpeakersError(err)) throw err;
        errors.push(err.code);
      }
    }
    if (clips.length === 0) continue;
    const result = await ctx.embedderFor(model).extractBatch(clips.map((c) => c.clip));
    for (const item of result.items) {
      const source = clips[item.index]?.record;
      if (source === undefined) continue;
      if (!item.ok) {
        errors.push(item.error.code);
        continue;
      }
      const record: SampleRecord = {
        ...source,
        model: item.embedding.model,
        vector: item.embedding.vector,
        durationMs: item.embedding.durationMs,
      };
      await ctx.store.putSample(record, sampleKey(profile.id, source.sampleId, model));
      embedded += 1;
    }
  }
  const voiceprint = await ctx.store.rebuildVoiceprint(profile.id, model);
  return {
    speakerId: profile.id,
    name: profile.name,
    samples: new Set(all.filter((s) => s.record.kind !== "adapted").map((s) => s.record.sampleId)).size,
    embedded,
    failed: errors.length,
    ...(errors.length === 0 ? {} : { errors: errors.slice(0, 100) }),
    voiceprint: voiceprint !== undefined,
  };
}

/** The sample's audio: the kept clip, else the file it was enrolled from (the worker reads it, local mode). */
async function clipOf(ctx: RegistryContext, record: SampleRecord): Promise<BatchClip> {
  if (record.clip !== undefined) {
    return { audio: await getClip(ctx.bus, record.clip.name, { bucket: record.clip.bucket }) };
  }
  if (record.origin.kind === "path") return { path: record.origin.path };
  if (record.origin.kind === "audio-event") {
    const heard = await audioResolver(
      ctx.bus,
      [{ length: 0, eventId: record.origin.eventId }],
      EMPTY,
    ).resolve(0);
    return { audio: heard.bytes, ...heard.meta };
  }
  throw new SpeakersError(
    "AUDIO_OBJECT_NOT_FOUND",
    `Sample ${record.sampleId} has no stored audio to embed.`,
    {
      details: { sampleId: record.sampleId },
    },
  );
}
