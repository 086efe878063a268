/** Reply shapes built from stored records; raw vectors only leave when the caller asked for them. */
import { type ModelRef, modelKey, type SpeakerDetail, type SpeakerSummary } from "@speakers/events";
import type { RegistryContext } from "./context.js";
import { qualityOf } from "./quality-gates.js";
import type { ProfileRecord, SampleRecord } from "./store/records.js";

export async function summaryOf(
  ctx: RegistryContext,
  profile: ProfileRecord,
  model?: ModelRef,
): Promise<SpeakerSummary> {
  const [samples, voiceprints] = await Promise.all([
    ctx.store.samples(profile.id),
    ctx.store.voiceprintsOfSpeaker(profile.id),
  ]);
  const qualityModel = model ?? voiceprints[0]?.model;
  const complete =
    qualityModel === undefined
      ? false
      : qualityOf(
          samples
            .filter((s) => modelKey(s.record.model) === modelKey(qualityModel))
            .map((s) => ({ key: s.record.sampleId, vector: s.record.vector, speechMs: s.record.durationMs })),
          ctx.enrollment,
        ).complete;
  return {
    id: profile.id,
    name: profile.name,
    samples: new Set(samples.map((s) => s.record.sampleId)).size,
    voiceprints: voiceprints.map((v) => modelKey(v.model)).sort(),
    complete,
    ...(profile.ref === undefined ? {} : { ref: profile.ref }),
    createdAt: profile.createdAt,
    updatedAt: profile.updatedAt,
  };
}

export async function detailOf(
  ctx: RegistryContext,
  profile: ProfileRecord,
  includeEmbeddings: boolean,
): Promise<SpeakerDetail> {
  const [summary, samples, voiceprints] = await Promise.all([
    summaryOf(ctx, profile),
    ctx.store.samples(profile.id),
    ctx.store.voiceprintsOfSpeaker(profile.id),
  ]);
  const bySample = new Map<string, SampleRecord[]>();
  for (const { record } of samples)
    bySample.set(record.sampleId, [...(bySample.get(record.sampleId) ?? []), record]);
  return {
    speaker: summary,
    samples: [...bySample.values()].map((records) => {
      const first = records[0] as SampleRecord;
      return {
        sampleId: first.sampleId,
        addedAt: first.addedAt,
        durationMs: first.durationMs,
        origin: first.origin,
        ...(first.clip === undefined ? {} : { clip: first.clip }),
        models: records.map((r) => modelKey(r.model)),
        ...(includeEmbeddings
          ? { embeddings: records.map((r) => ({ model: r.model, vector: r.vector })) }
          : {}),
      };
    }),
    voiceprints: voiceprints.map((v) => ({
      model: v.model,
      samples: v.sampleIds.length,
      updatedAt: v.updatedAt,
      ...(includeEmbeddings ? { vector: v.vector } : {}),
    })),
  };
}
