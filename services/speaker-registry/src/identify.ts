/** Identification (1:N) and verification (1:1) against stored voiceprints of the embedding's own model. */
import { type Delivery, publish } from "@speakers/bus";
import {
  type EmbeddingComputed,
  type IdentifyReply,
  identifiedEventId,
  type ModelRef,
  modelKey,
  type ProbeQuality,
  REPLAY_SOURCE,
  SpeakerIdentified,
  SpeakersError,
  type VerifyReply,
} from "@speakers/events";
import { decideWithRule, dot, l2Normalize, scoreProbe } from "@speakers/scoring";
import { ADAPT_MIN_SNR_DB, ADAPT_MIN_SPEECH_SECONDS, storeAdaptedSample, verdictFor } from "./adaptation.js";
import type { RegistryContext } from "./context.js";
import { eraseIfFenced } from "./erase.js";

export interface Identification extends Omit<IdentifyReply, "durationMs"> {}

export async function identifyVector(
  ctx: RegistryContext,
  vector: readonly number[],
  model: ModelRef,
  topK = 5,
  options: {
    quality?: ProbeQuality;
    durationMs?: number;
    excludeSpeakers?: readonly string[];
    /** Whose profile names to read: every candidate's (default), or only the decided speaker's. */
    names?: "candidates" | "speaker";
  } = {},
): Promise<Identification> {
  if (vector.length !== model.dim) {
    throw new SpeakersError("EMBEDDING_DIM_MISMATCH", undefined, {
      details: { expected: model.dim, actual: vector.length },
    });
  }
  const { index, rule } = await ctx.scoring.scoringFor(model, options.excludeSpeakers);
  const seconds =
    options.quality?.speechSeconds ??
    (options.durationMs === undefined ? undefined : options.durationMs / 1000);
  const decision = decideWithRule(scoreProbe(index, vector), rule, seconds, topK);
  const names = new Map<string, string>();
  const named =
    options.names === "speaker"
      ? decision.candidates.filter((c) => c.speakerId === decision.speakerId)
      : decision.candidates;
  await Promise.all(
    named.map(async (c) => {
      names.set(c.speakerId, (await ctx.store.profile(c.speakerId))?.name ?? c.speakerId);
    }),
  );
  const name = (id: string) => names.get(id) ?? id;
  return {
    decision: decision.decision,
    ...(decision.speakerId === undefined
      ? {}
      : { speaker: { id: decision.speakerId, name: name(decision.speakerId) } }),
    score: clamp(decision.cosine.score, -1, 1),
    margin: clamp(decision.cosine.margin, 0, 2),
    threshold: clamp(decision.cosine.threshold, -1, 1),
    marginThreshold: clamp(decision.cosine.marginThreshold, 0, 2),
    candidates: decision.candidates.map((c) => ({
      speakerId: c.speakerId,
      name: name(c.speakerId),
      score: clamp(c.score, -1, 1),
    })),
    model,
    ...(decision.reason === undefined ? {} : { reason: decision.reason }),
    scoring: decision.scoring,
    ...(options.quality === undefined ? {} : { quality: options.quality }),
  };
}

export async function verifyVector(
  ctx: RegistryContext,
  speakerId: string,
  vector: readonly number[],
  model: ModelRef,
  threshold?: number,
): Promise<VerifyReply> {
  const profile = await ctx.store.requireProfile(speakerId);
  const voiceprint = await ctx.store.voiceprint(speakerId, model);
  if (voiceprint === undefined) {
    throw new SpeakersError("NO_VOICEPRINT", `"${profile.name}" has no voiceprint for ${modelKey(model)}.`, {
      details: { speakerId, model: modelKey(model) },
    });
  }
  const score = clamp(dot(l2Normalize(vector), l2Normalize(voiceprint.vector)), -1, 1);
  const accept = threshold ?? ctx.policy(modelKey(model)).threshold;
  return { speakerId, name: profile.name, match: score >= accept, score, threshold: accept, model };
}

/**
 * Handles one `embedding.computed` of the live model: the output id is derived from the input's, so a
 * redelivered embedding publishes the same `speaker.identified` and JetStream stores it once.
 */
export async function handleEmbeddingComputed(
  ctx: RegistryContext,
  liveModel: () => ModelRef,
  delivery: Delivery<typeof EmbeddingComputed>,
): Promise<void> {
  const event = delivery.data;
  if (delivery.meta.source === REPLAY_SOURCE) {
    delivery.logger.debug("a replayed embedding of past audio; not a live identification");
    return;
  }
  if (modelKey(event.model) !== modelKey(liveModel())) {
    delivery.logger.debug({ model: modelKey(event.model) }, "not the live model; skipped");
    return;
  }
  const result = await identifyVector(ctx, event.vector, event.model, 5, {
    durationMs: event.durationMs,
    ...(event.quality === undefined ? {} : { quality: event.quality }),
    // The event names candidates by ref only (ADR 0004): the decided speaker's name is the one it carries.
    names: "speaker",
  });
  const verdict = verdictFor(ctx, event.model, result);
  const { reason: _reason, candidates, ...identified } = result;
  const published = await publish(
    ctx.bus,
    SpeakerIdentified,
    {
      ...identified,
      candidates: await candidateRefs(ctx, candidates),
      sourceEventId: event.sourceEventId,
      embeddingEventId: delivery.meta.id,
      source: event.source,
      ...(event.capturedAt === undefined ? {} : { capturedAt: event.capturedAt }),
      ...(verdict.adapt ? { adapted: true } : {}),
    },
    {
      id: identifiedEventId(delivery.meta.id),
      correlationId: delivery.meta.correlationId,
      source: ctx.source,
    },
  );
  delivery.logger.info(
    {
      decision: result.decision,
      speakerId: result.speaker?.id,
      score: result.score,
      ...(result.scoring === undefined ? {} : { scoring: result.scoring }),
      adaptation: verdict.reason,
    },
    "speaker identified",
  );
  if (result.speaker !== undefined) {
    const erased = await eraseIfFenced(ctx, {
      speakerId: result.speaker.id,
      identifiedSeq: published.seq,
      embeddingSeq: delivery.meta.seq,
      sourceEventId: event.sourceEventId,
      deviceId: event.source?.deviceId,
    });
    if (!erased && verdict.adapt) {
      await storeAdaptedSample(ctx, {
        speakerId: result.speaker.id,
        model: event.model,
        vector: event.vector,
        durationMs: event.durationMs,
        quality: event.quality,
        embeddingEventId: delivery.meta.id,
        sourceEventId: event.sourceEventId,
      });
    }
  } else {
    // Best effort: a cohort entry missed is no reason to redeliver an identification already published.
    await keepUnknownVoice(ctx, event, result).catch((err: unknown) =>
      delivery.logger.warn({ err }, "unknown voice not kept for the cohort"),
    );
  }
}

/**
 * A clip the calibrated rule called unknown (below threshold), with enough clean speech, joins the model's
 * ring of unknown voices: AS-norm cohort only, never a sample of anyone (ADR 0003).
 */
async function keepUnknownVoice(ctx: RegistryContext, event: EmbeddingComputed, result: Identification) {
  const q = event.quality;
  if (result.reason !== "below-threshold" || result.scoring?.source !== "calibration") return;
  if (q === undefined || q.speechSeconds < ADAPT_MIN_SPEECH_SECONDS) return;
  if (q.snrDb === undefined || q.snrDb < ADAPT_MIN_SNR_DB) return;
  await ctx.sources.addUnknown(event.model, {
    vector: event.vector,
    ...(result.candidates[0] === undefined ? {} : { nearest: result.candidates[0].speakerId }),
    sourceEventId: event.sourceEventId,
  });
}

/** Stored events name candidates by ref only (ADR 0004); one erased since scoring is left out. */
async function candidateRefs(ctx: RegistryContext, candidates: Identification["candidates"]) {
  const refs = await Promise.all(
    candidates.map(async (c) => ({ ref: await ctx.store.candidateRef(c.speakerId), score: c.score })),
  );
  return refs.flatMap((c) => (c.ref === undefined ? [] : [{ ref: c.ref, score: c.score }]));
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, x));
}
