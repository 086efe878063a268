/**
 * Enrollment quality gates. Each rejected sample carries a catalogue code that tells the user what to do;
 * a speaker with too little speech overall is still enrolled, but flagged incomplete with the same kind of
 * feedback, because a thin voiceprint identifies better than none and the threshold still guards strangers.
 */
import type { ErrorCode } from "@speakers/events";
import type { ModelPolicy } from "@speakers/scoring";
import { dot, l2Normalize, rank, type ScoredVoiceprint, type Vector, voiceprintOf } from "@speakers/scoring";
import type { EnrollmentPolicy } from "./enrollment-policy.js";

export type GateCode = Extract<
  ErrorCode,
  | "ENROLL_NO_SPEECH"
  | "ENROLL_SAMPLE_TOO_SHORT"
  | "ENROLL_TOO_LITTLE_SPEECH"
  | "ENROLL_SAMPLE_INCONSISTENT"
  | "ENROLL_SAMPLE_CLOSER_TO_OTHER"
>;

export interface GateSample {
  /** Stable within one enrollment; reported back with the verdict. */
  readonly key: string;
  readonly vector: Vector;
  /** Speech in the sample (voice activity), or its duration when the worker does not report speech. */
  readonly speechMs: number;
  /** Voiced speech the worker measured (pitch-like periodicity); undefined when it does not say. */
  readonly voicedMs?: number | undefined;
}

/**
 * Below this share of voiced frames a sample holds no voice. Measured with the worker's detector: 0 for 5 s
 * of white, pink or brown noise; 7.7 % for the least voiced of 117 read-speech recordings (median 37 %).
 */
export const MIN_VOICED_FRACTION = 0.03;

export interface Feedback {
  readonly code: GateCode;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

export interface SampleVerdict {
  readonly key: string;
  readonly accepted: boolean;
  readonly feedback: Feedback | undefined;
  /** Cosine against the speaker's other samples (leave-one-out voiceprint); undefined with no other sample. */
  readonly consistency: number | undefined;
}

export interface EnrollmentQuality {
  readonly sampleCount: number;
  readonly speechMs: number;
  /** Enough speech over enough samples for a reliable voiceprint. */
  readonly complete: boolean;
  /** The lowest leave-one-out score among the speaker's samples, a measure of how coherent they are. */
  readonly minConsistency: number | undefined;
  readonly feedback: readonly Feedback[];
}

export interface GateInput {
  /** Samples the speaker already has for this model: trusted, they passed the gates before. */
  readonly existing: readonly GateSample[];
  readonly incoming: readonly GateSample[];
  /** Voiceprints of every other speaker for this model. */
  readonly others: readonly ScoredVoiceprint[];
  readonly model: ModelPolicy;
  readonly enrollment: EnrollmentPolicy;
}

export interface GateResult {
  readonly verdicts: readonly SampleVerdict[];
  readonly quality: EnrollmentQuality;
}

export function runQualityGates(input: GateInput): GateResult {
  const rejected = new Map<string, Feedback>();
  const minMs = input.enrollment.minSampleSpeechMs;
  for (const s of input.incoming) {
    if (s.voicedMs !== undefined && s.voicedMs < MIN_VOICED_FRACTION * s.speechMs) {
      rejected.set(s.key, {
        code: "ENROLL_NO_SPEECH",
        message: `Sample has ${seconds(s.voicedMs)} of voiced speech in ${seconds(s.speechMs)}: no voice to enroll.`,
        details: { voicedMs: s.voicedMs, durationMs: s.speechMs, minVoicedFraction: MIN_VOICED_FRACTION },
      });
    } else if (s.speechMs < minMs) {
      rejected.set(s.key, {
        code: "ENROLL_SAMPLE_TOO_SHORT",
        message: `Sample has ${seconds(s.speechMs)} of speech; each sample needs at least ${seconds(minMs)}.`,
        details: { speechMs: s.speechMs, minSpeechMs: minMs },
      });
    }
  }
  rejectInconsistent(input, rejected);
  rejectCloserToOther(input, rejected);

  const pool = [...input.existing, ...input.incoming.filter((s) => !rejected.has(s.key))];
  const verdicts = input.incoming.map((s): SampleVerdict => {
    const feedback = rejected.get(s.key);
    return { key: s.key, accepted: feedback === undefined, feedback, consistency: leaveOneOut(s, pool) };
  });
  return { verdicts, quality: qualityOf(pool, input.enrollment) };
}

/** The pool's quality as it stands; also used after a sample is removed. */
export function qualityOf(pool: readonly GateSample[], enrollment: EnrollmentPolicy): EnrollmentQuality {
  const speechMs = pool.reduce((sum, s) => sum + s.speechMs, 0);
  const complete = pool.length >= enrollment.minSamples && speechMs >= enrollment.minTotalSpeechMs;
  const scores = pool.map((s) => leaveOneOut(s, pool)).filter((x): x is number => x !== undefined);
  const feedback: Feedback[] = complete
    ? []
    : [
        {
          code: "ENROLL_TOO_LITTLE_SPEECH",
          message: `The speaker has ${seconds(speechMs)} of speech in ${pool.length} sample(s); add samples until there are at least ${seconds(enrollment.minTotalSpeechMs)} over ${enrollment.minSamples} samples.`,
          details: {
            speechMs,
            sampleCount: pool.length,
            minTotalSpeechMs: enrollment.minTotalSpeechMs,
            minSamples: enrollment.minSamples,
          },
        },
      ];
  return {
    sampleCount: pool.length,
    speechMs,
    complete,
    minConsistency: scores.length > 0 ? Math.min(...scores) : undefined,
    feedback,
  };
}

/**
 * Drops the incoming sample that agrees least with the rest, one at a time, while it is below the floor.
 * Existing samples are never dropped here. With only two samples there is no majority, so the later
 * (incoming) one is the one rejected.
 */
function rejectInconsistent(input: GateInput, rejected: Map<string, Feedback>): void {
  for (;;) {
    const pool = [...input.existing, ...input.incoming.filter((s) => !rejected.has(s.key))];
    if (pool.length < 2) return;
    let worst: { sample: GateSample; score: number } | undefined;
    for (const s of input.incoming) {
      if (rejected.has(s.key)) continue;
      const score = leaveOneOut(s, pool);
      if (score !== undefined && (worst === undefined || score < worst.score)) worst = { sample: s, score };
    }
    if (worst === undefined || worst.score >= input.model.consistencyFloor) return;
    const target = pool.length === 2 ? lastIncoming(input, rejected) : worst.sample;
    if (target === undefined) return;
    rejected.set(target.key, {
      code: "ENROLL_SAMPLE_INCONSISTENT",
      message: `Sample scores ${worst.score.toFixed(3)} against the speaker's other samples (needs ${input.model.consistencyFloor}); it may hold another voice or several voices.`,
      details: { score: worst.score, floor: input.model.consistencyFloor },
    });
  }
}

function lastIncoming(input: GateInput, rejected: Map<string, Feedback>): GateSample | undefined {
  return input.incoming.filter((s) => !rejected.has(s.key)).at(-1);
}

/** A sample another enrolled speaker would claim (accepted for them, and closer to them than to its own). */
function rejectCloserToOther(input: GateInput, rejected: Map<string, Feedback>): void {
  const pool = [...input.existing, ...input.incoming.filter((s) => !rejected.has(s.key))];
  for (const s of input.incoming) {
    if (rejected.has(s.key)) continue;
    const best = rank(s.vector, input.others)[0];
    if (best === undefined || best.score < input.model.threshold) continue;
    const own = leaveOneOut(s, pool);
    if (own !== undefined && own >= best.score) continue;
    rejected.set(s.key, {
      code: "ENROLL_SAMPLE_CLOSER_TO_OTHER",
      message: `Sample sounds more like enrolled speaker "${best.speakerId}" (score ${best.score.toFixed(3)}) than like this speaker${own === undefined ? "" : ` (${own.toFixed(3)})`}.`,
      details: { otherSpeakerId: best.speakerId, otherScore: best.score, ownScore: own },
    });
  }
}

function leaveOneOut(sample: GateSample, pool: readonly GateSample[]): number | undefined {
  const rest = pool.filter((s) => s.key !== sample.key).map((s) => s.vector);
  if (rest.length === 0) return undefined;
  return dot(l2Normalize(sample.vector), voiceprintOf(rest));
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
