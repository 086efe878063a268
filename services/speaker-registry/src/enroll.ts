/**
 * Enrollment: embed every sample through the worker, run the quality gates, store accepted samples (and a copy
 * of their audio), rebuild the voiceprint with compare-and-set, and report progress on
 * `speaker.enrollment.progress` as it goes.
 */
import { publish, putClip } from "@speakers/bus";
import {
  type EmbeddingResult,
  type EnrollFeedback,
  type EnrollItem,
  EnrollmentProgress,
  type EnrollmentStage,
  type EnrollReply,
  ERRORS,
  type ErrorCode,
  isSpeakersError,
  type ModelRef,
  modelKey,
  type SampleFeedback,
  SpeakerEnrolled,
  SpeakersError,
  SpeakerUpdated,
  toErrorPayload,
} from "@speakers/events";
import { audioResolver, type ResolvedAudio } from "./audio-sources.js";
import { storeAugmentedCopies } from "./augment-samples.js";
import type { RegistryContext } from "./context.js";
import { embedClip } from "./embedder.js";
import { type Feedback, type GateSample, qualityOf, runQualityGates } from "./quality-gates.js";
import {
  clipName,
  newCandidateRef,
  newEnrollmentId,
  newSampleId,
  newSpeakerId,
  sampleKey,
} from "./store/keys.js";
import type { ProfileRecord, SampleRecord } from "./store/records.js";
import { summaryOf } from "./summaries.js";

export interface EnrollRequest {
  /** New or existing speaker by name (`enroll`)... */
  name?: string;
  /** ...or an existing speaker by id (`samples.add`). */
  speakerId?: string;
  createOnly?: boolean;
  enrollmentId?: string;
  items: readonly EnrollItem[];
  body: Uint8Array;
}

interface Embedded {
  index: number;
  audio: ResolvedAudio;
  embedding: EmbeddingResult;
}

/** An audio problem belongs to one sample; anything else (worker down, timeout) stops the enrollment. */
function isSampleProblem(err: unknown): err is SpeakersError {
  return isSpeakersError(err) && (err.code.startsWith("AUDIO_") || err.code === "MODEL_MISMATCH");
}

export async function enroll(ctx: RegistryContext, req: EnrollRequest): Promise<EnrollReply> {
  const enrollmentId = req.enrollmentId ?? newEnrollmentId();
  const target = await resolveTarget(ctx, req);
  const resolver = audioResolver(ctx.bus, req.items, req.body);
  const total = req.items.length;
  const quality: SampleFeedback[] = [];
  const feedback: EnrollFeedback[] = [];
  let speakerId = target.id;
  let savedSamples: ReadonlySet<number> | undefined;
  const progress = (stage: EnrollmentStage, done: number, final?: EnrollReply["result"]) =>
    publishProgress(ctx, {
      enrollmentId,
      speakerId,
      done,
      total,
      stage,
      quality: [...quality],
      ...(final ? { final } : {}),
    });

  try {
    await progress("embedding", 0);
    const embedded: Embedded[] = [];
    let model: ModelRef | undefined;
    for (let index = 0; index < total; index++) {
      try {
        const audio = await resolver.resolve(index);
        const embedding = await embedClip(ctx.embedder, audio.bytes, audio.meta);
        model ??= embedding.model;
        if (modelKey(embedding.model) !== modelKey(model)) {
          throw new SpeakersError("MODEL_MISMATCH", "The worker switched models during the enrollment.");
        }
        embedded.push({ index, audio, embedding });
      } catch (err) {
        if (!isSampleProblem(err)) throw err;
        quality.push({ index, accepted: false, code: err.code });
        feedback.push({ index, code: err.code, message: err.message, hint: err.hint });
      }
      await progress("embedding", index + 1);
    }

    await progress("checking", total);
    const gates = model === undefined ? undefined : await checkQuality(ctx, speakerId, model, embedded);
    const accepted = embedded.filter((e) => gates?.verdicts.get(e.index)?.accepted);
    for (const e of embedded) {
      const verdict = gates?.verdicts.get(e.index);
      if (verdict?.feedback) {
        feedback.push({ index: e.index, ...withHint(verdict.feedback) });
      }
    }
    if (accepted.length === 0 || model === undefined) {
      for (const e of embedded) quality.push(sampleFeedback(e, undefined, gates?.verdicts.get(e.index)));
      throw noSampleAccepted(enrollmentId, quality, feedback);
    }

    await progress("saving", total);
    const saved = await save(ctx, target, model, accepted);
    speakerId = saved.profile.id;
    savedSamples = new Set(saved.sampleIds.keys());
    for (const e of embedded)
      quality.push(sampleFeedback(e, saved.sampleIds.get(e.index), gates?.verdicts.get(e.index)));
    quality.sort((a, b) => a.index - b.index);

    const pool = (await ctx.store.samples(speakerId, model)).map(
      (s): GateSample => ({ key: s.record.sampleId, vector: s.record.vector, speechMs: s.record.durationMs }),
    );
    const overall = qualityOf(pool, ctx.enrollment);
    for (const f of overall.feedback) feedback.push(withHint(f));
    await announce(ctx, saved, model, enrollmentId, pool.length);
    await recalibrateQuietly(ctx, model, "enrollment");

    await dropUploads(ctx, req.items, savedSamples);
    const result = {
      outcome: "enrolled" as const,
      samplesAccepted: accepted.length,
      samplesRejected: total - accepted.length,
    };
    await progress("done", total, result);
    return {
      enrollmentId,
      speaker: await summaryOf(ctx, saved.profile, model),
      result,
      quality,
      feedback,
      complete: overall.complete,
    };
  } catch (err) {
    await releaseUnused(ctx, target);
    await dropUploads(ctx, req.items, savedSamples ?? new Set());
    quality.sort((a, b) => a.index - b.index);
    const rejected = quality.filter((q) => !q.accepted).length;
    await progress("failed", total, {
      outcome: "failed",
      samplesAccepted: 0,
      samplesRejected: rejected,
      error: toErrorPayload(err),
    });
    throw err;
  }
}

interface Target {
  /** The speaker's id; for a new name, the id that won the claim on it. */
  id: string;
  /** The profile, unless the speaker is new (or a concurrent enrollment has not saved it yet). */
  existing: ProfileRecord | undefined;
  name: string;
  /** This enrollment claimed the name for a fresh id. */
  claimed: boolean;
}

async function resolveTarget(ctx: RegistryContext, req: EnrollRequest): Promise<Target> {
  if (req.speakerId !== undefined) {
    const existing = await ctx.store.requireProfile(req.speakerId);
    return { id: existing.id, existing, name: existing.name, claimed: false };
  }
  const name = (req.name ?? "").trim();
  if (name === "") throw new SpeakersError("INVALID_REQUEST", "A speaker needs a name.");
  // The name is claimed before any work, so a concurrent enrollment of the same new name joins this speaker
  // (its samples count as this speaker's, not as "another speaker" in the gates).
  const fresh = newSpeakerId();
  const holder = await ctx.store.claimName(name, fresh);
  if (holder !== fresh && req.createOnly) throw speakerExists(name, holder);
  return { id: holder, existing: await ctx.store.profile(holder), name, claimed: holder === fresh };
}

/** An enrollment that saved nothing gives back a name it claimed, unless someone else saved under it. */
async function releaseUnused(ctx: RegistryContext, target: Target): Promise<void> {
  if (!target.claimed || (await ctx.store.profile(target.id)) !== undefined) return;
  await ctx.store.releaseName(target.name, target.id).catch((err: unknown) => {
    ctx.logger.warn({ err, speakerId: target.id }, "claimed name not released");
  });
}

function speakerExists(name: string, speakerId: string): SpeakersError {
  return new SpeakersError("SPEAKER_EXISTS", `A speaker named "${name}" already exists.`, {
    details: { speakerId },
  });
}

async function checkQuality(ctx: RegistryContext, speakerId: string, model: ModelRef, embedded: Embedded[]) {
  const [existing, all] = await Promise.all([
    ctx.store.samples(speakerId, model),
    ctx.store.voiceprintsOfModel(model),
  ]);
  const result = runQualityGates({
    existing: existing.map((s) => ({
      key: s.record.sampleId,
      vector: s.record.vector,
      speechMs: s.record.durationMs,
    })),
    incoming: embedded.map((e) => ({
      key: String(e.index),
      vector: e.embedding.vector,
      speechMs: e.embedding.durationMs,
      voicedMs: e.embedding.voicedMs,
    })),
    others: all
      .filter((v) => v.speakerId !== speakerId)
      .map((v) => ({ speakerId: v.speakerId, vector: v.vector })),
    model: ctx.policy(modelKey(model)),
    enrollment: ctx.enrollment,
  });
  return { ...result, verdicts: new Map(result.verdicts.map((v) => [Number(v.key), v])) };
}

function sampleFeedback(
  e: Embedded,
  sampleId: string | undefined,
  verdict: { accepted: boolean; feedback: Feedback | undefined; consistency: number | undefined } | undefined,
): SampleFeedback {
  return {
    index: e.index,
    ...(sampleId === undefined ? {} : { sampleId }),
    accepted: sampleId !== undefined,
    ...(verdict?.feedback === undefined ? {} : { code: verdict.feedback.code }),
    durationMs: e.embedding.durationMs,
    ...(verdict?.consistency === undefined ? {} : { similarity: clampScore(verdict.consistency) }),
  };
}

function clampScore(x: number): number {
  return Math.max(-1, Math.min(1, x));
}

function withHint(f: Feedback): Omit<EnrollFeedback, "index"> {
  return { code: f.code, message: f.message, hint: ERRORS[f.code].hint };
}

function noSampleAccepted(
  enrollmentId: string,
  quality: readonly SampleFeedback[],
  feedback: readonly EnrollFeedback[],
): SpeakersError {
  const first = feedback[0];
  const code: ErrorCode = first?.code ?? "INVALID_REQUEST";
  const reasons = feedback.map((f) => `sample ${f.index ?? "?"}: ${f.message}`).join(" ");
  return new SpeakersError(code, `No sample could be used. ${reasons}`.trim(), {
    ...(first?.hint === undefined ? {} : { hint: first.hint }),
    details: { enrollmentId, quality, feedback },
  });
}

interface Saved {
  profile: ProfileRecord;
  created: boolean;
  sampleIds: Map<number, string>;
}

async function save(
  ctx: RegistryContext,
  target: Target,
  model: ModelRef,
  accepted: Embedded[],
): Promise<Saved> {
  let profile = target.existing ?? (await ctx.store.profile(target.id));
  let created = false;
  if (profile === undefined) {
    const now = new Date().toISOString();
    await ctx.store.ensureProfile({
      id: target.id,
      name: target.name,
      ref: newCandidateRef(),
      createdAt: now,
      updatedAt: now,
    });
    created = target.claimed;
    profile = await ctx.store.requireProfile(target.id);
  }
  const speakerId = profile.id;
  const sampleIds = new Map<number, string>();
  const addedAt = new Date().toISOString();
  for (const e of accepted) {
    const sampleId = newSampleId();
    const clip = e.audio.clip ?? (await storeClip(ctx, speakerId, sampleId, e.audio));
    const record: SampleRecord = {
      sampleId,
      speakerId,
      model,
      vector: e.embedding.vector,
      durationMs: e.embedding.durationMs,
      addedAt,
      origin: e.audio.origin,
      ...(clip === undefined ? {} : { clip }),
      kind: "clean",
      ...(e.embedding.quality === undefined ? {} : { speechMs: e.embedding.quality.speechSeconds * 1000 }),
      ...(e.embedding.quality?.snrDb === undefined ? {} : { snrDb: e.embedding.quality.snrDb }),
    };
    await ctx.store.putSample(record, sampleKey(speakerId, sampleId, model));
    sampleIds.set(e.index, sampleId);
    await storeAugmentedCopies(ctx, record, e.audio);
  }
  await ctx.store.rebuildVoiceprint(speakerId, model);
  profile = await ctx.store.updateProfile(speakerId, (p) => ({ ...p, updatedAt: new Date().toISOString() }));
  return { profile, created, sampleIds };
}

/** A copy of the enrollment audio, so a later model can be enrolled from the same recordings. */
async function storeClip(ctx: RegistryContext, speakerId: string, sampleId: string, audio: ResolvedAudio) {
  if (audio.bytes.length === 0) return undefined;
  const ref = await putClip(ctx.bus, clipName(speakerId, sampleId, audio.extension), audio.bytes, {
    contentType: audio.contentType,
  });
  return { bucket: ref.bucket, name: ref.name };
}

async function announce(
  ctx: RegistryContext,
  saved: Saved,
  model: ModelRef,
  enrollmentId: string,
  samples: number,
) {
  const { profile } = saved;
  if (saved.created) {
    await publish(
      ctx.bus,
      SpeakerEnrolled,
      { speakerId: profile.id, name: profile.name, model, samples, enrollmentId },
      { source: ctx.source },
    );
    return;
  }
  for (const sampleId of saved.sampleIds.values()) {
    await publish(
      ctx.bus,
      SpeakerUpdated,
      { speakerId: profile.id, name: profile.name, change: { kind: "sample-added", sampleId }, samples },
      { source: ctx.source },
    );
  }
  await publish(
    ctx.bus,
    SpeakerUpdated,
    {
      speakerId: profile.id,
      name: profile.name,
      change: { kind: "voiceprint-rebuilt", model, samples },
      samples,
    },
    { source: ctx.source },
  );
}

/**
 * A clip the client uploaded for enrollment is handed over: kept with its sample when accepted, deleted
 * otherwise, so no audio of a rejected (maybe wrong) voice stays behind.
 */
async function dropUploads(ctx: RegistryContext, items: readonly EnrollItem[], kept: ReadonlySet<number>) {
  for (const [index, item] of items.entries()) {
    if (item.clip === undefined || kept.has(index)) continue;
    await ctx.store.buckets.clips.delete(item.clip.name).catch((err: unknown) => {
      ctx.logger.warn({ err, clip: item.clip?.name }, "rejected upload not deleted");
    });
  }
}

/** Progress is advisory: a failed publish is logged, never allowed to fail the enrollment itself. */
async function publishProgress(
  ctx: RegistryContext,
  payload: Parameters<typeof publish<typeof EnrollmentProgress>>[2],
): Promise<void> {
  try {
    await publish(ctx.bus, EnrollmentProgress, payload, { source: ctx.source });
  } catch (err) {
    ctx.logger.warn({ err, enrollmentId: payload.enrollmentId }, "enrollment progress not published");
  }
}

/** The decision rule follows every enrollment change; a failed calibration keeps the last one, logged. */
export async function recalibrateQuietly(
  ctx: RegistryContext,
  model: ModelRef,
  trigger: "enrollment" | "samples-removed" | "speaker-deleted",
): Promise<void> {
  try {
    await ctx.scoring.recalibrate(model, trigger);
  } catch (err) {
    ctx.logger.warn({ err, model: modelKey(model) }, "calibration not updated");
  }
}
