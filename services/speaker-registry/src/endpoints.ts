/** The `registry` micro service (ADR 0001): every endpoint validates its request and answers typed errors. */
import type { Service } from "@nats-io/services";
import { type EndpointSpec, publish, serveEndpoint } from "@speakers/bus";
import {
  type EndpointDefinition,
  REGISTRY_ENDPOINTS,
  SERVICES,
  SpeakersError,
  SpeakerUpdated,
} from "@speakers/events";
import { adaptationReply } from "./adaptation.js";
import type { RegistryContext } from "./context.js";
import { embedClip } from "./embedder.js";
import { enroll, recalibrateQuietly } from "./enroll.js";
import { eraseSpeaker } from "./erase.js";
import { identifyVector, verifyVector } from "./identify.js";
import { useModel } from "./model-use.js";
import { rebuildVoiceprints } from "./rebuild.js";
import { RegistryStore } from "./store/registry-store.js";
import { detailOf, summaryOf } from "./summaries.js";

const prefix = SERVICES.registry.prefix;
const relative = (subject: string) => subject.slice(prefix.length + 1);

function audioMeta(meta: { format?: string; sampleRate?: number; channels?: number; path?: string }) {
  return {
    ...(meta.format === undefined ? {} : { format: meta.format as "wav" }),
    ...(meta.sampleRate === undefined ? {} : { sampleRate: meta.sampleRate }),
    ...(meta.channels === undefined ? {} : { channels: meta.channels }),
    ...(meta.path === undefined ? {} : { path: meta.path }),
  };
}

export function addRegistryEndpoints(ctx: RegistryContext, service: Service): void {
  const group = service.addGroup(prefix, SERVICES.registry.queue);
  const { bus } = ctx;
  const ep = REGISTRY_ENDPOINTS;
  /** Serves one endpoint of the contract's table under the registry's group. */
  const serve = <E extends EndpointDefinition>(
    e: E,
    handler: EndpointSpec<E["request"], E["reply"]>["handler"],
  ) =>
    serveEndpoint(bus, group, e.name, {
      subject: relative(e.subject),
      request: e.request,
      reply: e.reply,
      handler,
    });

  serve(ep.identify, async ({ data, body }) => {
    const embedding = await embedClip(ctx.embedder, body, audioMeta(data));
    const result = await identifyVector(ctx, embedding.vector, embedding.model, data.topK ?? 5, {
      durationMs: embedding.durationMs,
      ...(embedding.quality === undefined ? {} : { quality: embedding.quality }),
      ...(data.excludeSpeakers === undefined ? {} : { excludeSpeakers: data.excludeSpeakers }),
    });
    return { ...result, durationMs: embedding.durationMs };
  });

  serve(ep.verify, async ({ data, body }) => {
    await ctx.store.requireProfile(data.speakerId);
    const embedding = await embedClip(ctx.embedder, body, audioMeta(data));
    return verifyVector(ctx, data.speakerId, embedding.vector, embedding.model, data.threshold);
  });

  serve(ep.enroll, ({ data, body }) =>
    enroll(ctx, {
      name: data.name,
      items: data.items,
      body,
      ...(data.createOnly === undefined ? {} : { createOnly: data.createOnly }),
      ...(data.enrollmentId === undefined ? {} : { enrollmentId: data.enrollmentId }),
    }),
  );

  serve(ep.samplesAdd, async ({ data, body }) => {
    const reply = await enroll(ctx, {
      speakerId: data.speakerId,
      items: data.items,
      body,
      ...(data.enrollmentId === undefined ? {} : { enrollmentId: data.enrollmentId }),
    });
    if (reply.speaker === undefined) throw new SpeakersError("INTERNAL", "enrollment returned no speaker");
    return { ...reply, speaker: reply.speaker };
  });

  serve(ep.samplesRemove, ({ data }) => removeSample(ctx, data.speakerId, data.sampleId));

  serve(ep.list, async ({ data }) => {
    let profiles = await ctx.store.profiles();
    if (data.name !== undefined) {
      const wanted = data.name;
      profiles = profiles.filter((p) => RegistryStore.sameName(p.name, wanted));
    }
    profiles.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    const offset = data.offset ?? 0;
    const page = profiles.slice(offset, offset + (data.limit ?? 100));
    return { speakers: await Promise.all(page.map((p) => summaryOf(ctx, p))), total: profiles.length };
  });

  serve(ep.get, async ({ data }) =>
    detailOf(ctx, await ctx.store.requireProfile(data.speakerId), data.includeEmbeddings === true),
  );

  serve(ep.rename, ({ data }) => rename(ctx, data.speakerId, data.name));

  serve(ep.voiceprintsRebuild, ({ data }) =>
    rebuildVoiceprints(ctx, ctx.liveModel(), data.model, data.force ?? false),
  );

  serve(ep.calibrationGet, ({ data }) => ctx.scoring.reply(data.model ?? ctx.liveModel()));

  serve(ep.calibrate, ({ data }) => {
    if (data.excludeSpeakers !== undefined && data.dryRun !== true) {
      throw new SpeakersError("INVALID_REQUEST", "excludeSpeakers is a what-if: send it with dryRun.");
    }
    return ctx.scoring.recalibrate(data.model ?? ctx.liveModel(), "request", {
      ...(data.targetFar === undefined ? {} : { targetFar: data.targetFar }),
      ...(data.normalisation === undefined ? {} : { normalisation: data.normalisation }),
      ...(data.centring === undefined ? {} : { centring: data.centring }),
      ...(data.excludeSpeakers === undefined ? {} : { excludeSpeakers: data.excludeSpeakers }),
      ...(data.dryRun === undefined ? {} : { dryRun: data.dryRun }),
    });
  });

  serve(ep.adaptation, ({ data }) => adaptationReply(ctx, data.model ?? ctx.liveModel(), data.enabled));

  serve(ep.cohortImport, async ({ data }) => {
    const model = data.model ?? ctx.liveModel();
    await ctx.sources.importChunk(model, data.vectors, {
      ...(data.replace === undefined ? {} : { replace: data.replace }),
      ...(data.label === undefined ? {} : { label: data.label }),
    });
    return ctx.sources.reply(model);
  });

  serve(ep.cohortGet, ({ data }) => ctx.sources.reply(data.model ?? ctx.liveModel()));

  serve(ep.cohortClear, async ({ data }) => {
    const model = data.model ?? ctx.liveModel();
    await ctx.sources.clear(model);
    return ctx.sources.reply(model);
  });

  serve(ep.modelUse, ({ data }) => useModel(ctx, data));

  serve(ep.delete, async ({ data }) => {
    const models = (await ctx.store.voiceprintsOfSpeaker(data.speakerId)).map((v) => v.model);
    const reply = await eraseSpeaker(ctx, data.speakerId);
    for (const model of models) await recalibrateQuietly(ctx, model, "speaker-deleted");
    return reply;
  });
}

async function rename(ctx: RegistryContext, speakerId: string, rawName: string) {
  const name = rawName.trim();
  if (name === "") throw new SpeakersError("INVALID_REQUEST", "A speaker needs a name.");
  const before = await ctx.store.requireProfile(speakerId);
  if (!RegistryStore.sameName(before.name, name)) {
    const holder = await ctx.store.claimName(name, speakerId);
    if (holder !== speakerId) {
      throw new SpeakersError("SPEAKER_EXISTS", `A speaker named "${name}" already exists.`, {
        details: { speakerId: holder },
      });
    }
  }
  const after = await ctx.store.updateProfile(speakerId, (p) => ({
    ...p,
    name,
    updatedAt: new Date().toISOString(),
  }));
  if (!RegistryStore.sameName(before.name, name)) await ctx.store.releaseName(before.name, speakerId);
  await publish(
    ctx.bus,
    SpeakerUpdated,
    { speakerId, name, change: { kind: "renamed", from: before.name, to: name } },
    { source: ctx.source },
  );
  return summaryOf(ctx, after);
}

/** The sample's embeddings and clip go, and every voiceprint it was part of is rebuilt without it. */
async function removeSample(ctx: RegistryContext, speakerId: string, sampleId: string) {
  const profile = await ctx.store.requireProfile(speakerId);
  const all = await ctx.store.samples(speakerId, undefined, { copies: true });
  const entries = all.filter((s) => s.record.sampleId === sampleId);
  const first = entries[0];
  if (first === undefined) {
    throw new SpeakersError("SAMPLE_NOT_FOUND", `"${profile.name}" has no sample "${sampleId}".`, {
      details: { speakerId, sampleId },
    });
  }
  // Its augmented copies go with it: they are that recording under simulated rooms.
  const copies = all.filter((s) => s.record.parentSampleId === sampleId);
  for (const e of [...entries, ...copies]) await ctx.store.buckets.samples.purge(e.key);
  if (first.record.clip !== undefined) {
    await ctx.store.buckets.clips.delete(first.record.clip.name).catch(() => undefined);
  }
  for (const e of entries) await ctx.store.rebuildVoiceprint(speakerId, e.record.model);
  for (const e of entries) await recalibrateQuietly(ctx, e.record.model, "samples-removed");
  const after = await ctx.store.updateProfile(speakerId, (p) => ({
    ...p,
    updatedAt: new Date().toISOString(),
  }));
  const summary = await summaryOf(ctx, after);
  await publish(
    ctx.bus,
    SpeakerUpdated,
    { speakerId, name: after.name, change: { kind: "sample-removed", sampleId }, samples: summary.samples },
    { source: ctx.source },
  );
  return summary;
}
