/**
 * Opt-in voiceprint adaptation (ADR 0003): a live identification that the household's calibration accepts
 * by a clear margin, on a clip of good quality, is kept as a sample of that speaker (`kind: "adapted"`, the
 * identification's own embedding, never re-embedded), so the voiceprint learns the household's microphones
 * and rooms. Never an impostor: the score must clear the bin's threshold by ADAPT_MARGIN on the calibrated
 * scale AND lie above every stranger trial the calibration scored, and beat the runner-up by ADAPT_MARGIN.
 * Each speaker keeps at most ADAPT_CAP adapted samples, the oldest replaced first. The calibration is not
 * recomputed per adapted clip: every RECALIBRATE_EVERY adapted samples of a model (and on every enrollment
 * change, as before); the scoring index takes a new sample at once.
 */
import { createHash } from "node:crypto";
import type {
  AdaptationReply,
  CalibratedScoring,
  CalibrationRecord,
  ModelRef,
  ProbeQuality,
  ScoreScale,
} from "@speakers/events";
import type { RegistryContext } from "./context.js";
import type { SourcesState } from "./household-sources.js";
import { sampleKey } from "./store/keys.js";
import type { SampleRecord } from "./store/records.js";

export const ADAPT_CAP = 20;
export const ADAPT_MIN_SPEECH_SECONDS = 1.5;
export const ADAPT_MIN_SNR_DB = 10;
/** Over the threshold and over the runner-up, on the calibrated scale (AS-norm: z-units). */
export const ADAPT_MARGIN: Readonly<Record<ScoreScale, number>> = { "as-norm": 1, cosine: 0.1 };
export const RECALIBRATE_EVERY = 5;

export interface AdaptationVerdict {
  readonly adapt: boolean;
  /** Why not, for the log. */
  readonly reason: string;
}

/**
 * The highest stranger score the calibration saw: the lowest DET threshold at which no stranger trial was
 * accepted (at or above every stranger's best score). Undefined without a calibration.
 */
export function strangerCeiling(calibration: CalibrationRecord | undefined): number | undefined {
  if (calibration?.status !== "calibrated") return undefined;
  const clear = calibration.det.filter((p) => p.far === 0).map((p) => p.threshold);
  return clear.length === 0 ? undefined : Math.min(...clear);
}

/** Pure: whether one identification may become a sample. */
export function adaptationVerdict(input: {
  decision: "known" | "unknown";
  scoring: CalibratedScoring | undefined;
  quality: ProbeQuality | undefined;
  ceiling: number | undefined;
}): AdaptationVerdict {
  const { decision, scoring, quality, ceiling } = input;
  const no = (reason: string) => ({ adapt: false, reason });
  if (decision !== "known") return no("not accepted");
  if (scoring === undefined || scoring.source !== "calibration" || ceiling === undefined)
    return no("no calibration: the model's defaults decide and nothing is adapted");
  if (quality === undefined || quality.speechSeconds < ADAPT_MIN_SPEECH_SECONDS)
    return no("too little speech");
  if (quality.snrDb === undefined || quality.snrDb < ADAPT_MIN_SNR_DB) return no("too noisy");
  const margin = ADAPT_MARGIN[scoring.scale];
  if (scoring.score < scoring.threshold + margin) return no("not clearly above the threshold");
  if (scoring.score <= ceiling) return no("within the strangers' scores");
  if (scoring.margin < margin) return no("too close to the runner-up");
  return { adapt: true, reason: "adapted" };
}

/** The switch of a model: its stored setting, else SPEAKERS_ADAPTATION. */
export async function adaptationEnabled(
  ctx: RegistryContext,
  model: ModelRef,
): Promise<{ enabled: boolean; source: "setting" | "environment" }> {
  return switchOf(ctx, await ctx.sources.get(model));
}

function switchOf(
  ctx: RegistryContext,
  sources: SourcesState,
): { enabled: boolean; source: "setting" | "environment" } {
  const stored = sources.adaptation;
  return stored === undefined
    ? { enabled: ctx.adaptationByDefault, source: "environment" }
    : { enabled: stored.enabled, source: "setting" };
}

/**
 * The verdict on one live identification. It reads the switch and the calibration as the registry-state
 * view holds them: identification synced that view against the bucket a moment before (scoringFor).
 */
export function verdictFor(
  ctx: RegistryContext,
  model: ModelRef,
  identification: { decision: "known" | "unknown"; scoring?: CalibratedScoring; quality?: ProbeQuality },
): AdaptationVerdict {
  if (identification.decision !== "known") return { adapt: false, reason: "not accepted" };
  if (!switchOf(ctx, ctx.sources.held(model)).enabled) return { adapt: false, reason: "switched off" };
  return adaptationVerdict({
    decision: identification.decision,
    scoring: identification.scoring,
    quality: identification.quality,
    ceiling: strangerCeiling(ctx.scoring.heldCalibration(model)),
  });
}

/** The adapted sample's id, from the embedding event's: a redelivered identification writes the same one. */
export function adaptedSampleId(embeddingEventId: string): string {
  return `smp_${createHash("sha1").update(`adapted:${embeddingEventId}`).digest("hex").slice(0, 20)}`;
}

/**
 * Stores the adapted sample, then checks the erasure fence (an erasure that listed the speaker's samples
 * before this write must not leave it behind), then trims to the cap. Returns whether it was kept.
 */
export async function storeAdaptedSample(
  ctx: RegistryContext,
  input: {
    speakerId: string;
    model: ModelRef;
    vector: readonly number[];
    durationMs: number;
    quality: ProbeQuality | undefined;
    embeddingEventId: string;
    sourceEventId: string;
  },
): Promise<boolean> {
  const { speakerId, model } = input;
  const sampleId = adaptedSampleId(input.embeddingEventId);
  const key = sampleKey(speakerId, sampleId, model);
  const record: SampleRecord = {
    sampleId,
    speakerId,
    model,
    vector: [...input.vector],
    durationMs: input.durationMs,
    addedAt: new Date().toISOString(),
    origin: { kind: "audio-event", eventId: input.sourceEventId },
    kind: "adapted",
    ...(input.quality === undefined ? {} : { speechMs: input.quality.speechSeconds * 1000 }),
    ...(input.quality?.snrDb === undefined ? {} : { snrDb: input.quality.snrDb }),
  };
  await ctx.store.putSample(record, key);
  if (await ctx.store.isErased(speakerId)) {
    await ctx.store.buckets.samples.purge(key);
    return false;
  }
  const adapted = (await ctx.store.samples(speakerId, model, { copies: true })).filter(
    (s) => s.record.kind === "adapted",
  );
  // Oldest first (samples() sorts by addedAt): what is over the cap goes.
  for (const old of adapted.slice(0, Math.max(0, adapted.length - ADAPT_CAP)))
    await ctx.store.buckets.samples.purge(old.key);
  const state = await ctx.sources.update(model, (s) => ({
    ...s,
    generation: s.generation + 1,
    adaptedSinceCalibration: (s.adaptedSinceCalibration ?? 0) + 1,
  }));
  if ((state.adaptedSinceCalibration ?? 0) >= RECALIBRATE_EVERY) {
    await ctx.sources.update(model, (s) => ({ ...s, adaptedSinceCalibration: 0 }));
    try {
      await ctx.scoring.recalibrate(model, "adaptation");
    } catch (err) {
      ctx.logger.warn({ err, model }, "calibration not updated after adaptation");
    }
  }
  return true;
}

/** The `adaptation` endpoint: switches the model's setting when `enabled` is given, then reports it. */
export async function adaptationReply(
  ctx: RegistryContext,
  model: ModelRef,
  enabled: boolean | undefined,
): Promise<AdaptationReply> {
  if (enabled !== undefined) {
    await ctx.sources.update(model, (s) => ({
      ...s,
      adaptation: { enabled, changedAt: new Date().toISOString() },
    }));
  }
  const now = await adaptationEnabled(ctx, model);
  const adaptedSamples = (await ctx.scoring.samplesOf(model)).filter((s) => s.kind === "adapted").length;
  return { model, ...now, capPerSpeaker: ADAPT_CAP, adaptedSamples };
}
