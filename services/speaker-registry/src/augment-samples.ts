/**
 * Multi-condition voiceprints (ADR 0003): each accepted enrollment sample is also embedded as seeded copies
 * under simulated household conditions, by the worker's `augment` endpoint. Babble is made from up to four
 * OTHER speakers' stored enrollment audio; a household of one gets coloured noise only. The copies are
 * sample records of the same speaker (kind `augmented`, `parentSampleId`), so erasing the speaker or the
 * sample erases them, and the voiceprint averages over them.
 */
import { createHash } from "node:crypto";
import { getClip } from "@speakers/bus";
import type { AugmentSource } from "@speakers/embedding-client";
import type { ModelRef } from "@speakers/events";
import type { ResolvedAudio } from "./audio-sources.js";
import type { RegistryContext } from "./context.js";
import { sampleKey } from "./store/keys.js";
import type { SampleRecord } from "./store/records.js";

const MAX_BABBLE_VOICES = 4;

export function sourceOf(audio: ResolvedAudio): AugmentSource | undefined {
  if (audio.bytes.length > 0) {
    const { path: _path, ...format } = audio.meta;
    return { audio: audio.bytes, ...format };
  }
  return audio.meta.path === undefined ? undefined : { path: audio.meta.path };
}

/** Other speakers' stored audio, one sample each, chosen deterministically from the seed. */
async function babbleFor(ctx: RegistryContext, speakerId: string, model: ModelRef, seed: number) {
  const others = (await ctx.store.voiceprintsOfModel(model)).filter((v) => v.speakerId !== speakerId);
  const order = others
    // Ranked by what the voices sound like, not by their random ids: the same household draws the same
    // babble on every run.
    .map((v) => ({
      v,
      rank: createHash("sha1")
        .update(`${seed}:${seedOf(v.vector)}`)
        .digest()
        .readUInt32BE(0),
    }))
    .sort((a, b) => a.rank - b.rank)
    .slice(0, MAX_BABBLE_VOICES);
  const out: AugmentSource[] = [];
  for (const { v } of order) {
    const first = (await ctx.store.samples(v.speakerId, model))[0]?.record;
    if (first === undefined) continue;
    try {
      if (first.clip !== undefined)
        out.push({ audio: await getClip(ctx.bus, first.clip.name, { bucket: first.clip.bucket }) });
      else if (first.origin.kind === "path") out.push({ path: first.origin.path });
    } catch (err) {
      ctx.logger.debug({ err, speakerId: v.speakerId }, "no babble audio from this speaker");
    }
  }
  return out;
}

/**
 * A seed from what the sample sounds like (its clean embedding, rounded so that a CPU's last bits do not
 * move it): the same recording gets the same copies in every enrollment, replica and rebuild, so a
 * household's calibration is reproducible. Sample ids are random and would make it differ run to run.
 */
export function seedOf(vector: readonly number[]): number {
  const hash = createHash("sha1");
  for (const x of vector) hash.update(`${Math.round(x * 1e4)},`);
  return hash.digest().readUInt32BE(0);
}

/** Embeds and stores the augmented copies of one clean sample; returns how many were stored. */
export async function storeAugmentedCopies(
  ctx: RegistryContext,
  parent: SampleRecord,
  audio: ResolvedAudio,
): Promise<number> {
  if (ctx.augmentCopies <= 0) return 0;
  const source = sourceOf(audio);
  if (source === undefined) return 0;
  const seed = seedOf(parent.vector);
  const babble = await babbleFor(ctx, parent.speakerId, parent.model, seed);
  const reply = await ctx
    .embedderFor(parent.model)
    .augment(source, { copies: ctx.augmentCopies, seed, babble });
  for (const [i, copy] of reply.copies.entries()) {
    const sampleId = `${parent.sampleId}_a${i}`;
    const record: SampleRecord = {
      sampleId,
      speakerId: parent.speakerId,
      model: parent.model,
      vector: copy.vector,
      durationMs: copy.durationMs,
      addedAt: parent.addedAt,
      origin: parent.origin,
      kind: "augmented",
      parentSampleId: parent.sampleId,
      condition: copy.condition,
      ...(copy.quality === undefined ? {} : { speechMs: copy.quality.speechSeconds * 1000 }),
      ...(copy.quality?.snrDb === undefined ? {} : { snrDb: copy.quality.snrDb }),
    };
    await ctx.store.putSample(record, sampleKey(parent.speakerId, sampleId, parent.model));
  }
  return reply.copies.length;
}
