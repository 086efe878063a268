import { randomUUID } from "node:crypto";
import { type Bus, publish, putClip } from "@speakers/bus";
import {
  AUDIO_LIMITS,
  type AudioCaptured,
  AudioCaptured as AudioCapturedEvent,
  clipTranscript,
  INLINE_AUDIO_LIMIT_BYTES,
  isSpeakersError,
  SpeakersError,
  validationIssues,
} from "@speakers/events";
import type { BusHealth } from "./bus-health.js";
import { pcmLevelDbfs } from "./level.js";
import { type SniffedAudio, sniffAudio } from "./sniff.js";

export const SERVICE_NAME = "audio-capture";
export const CE_SOURCE = "/services/audio-capture";

/**
 * What capture refuses before storing anything. The defaults are the contract's AUDIO_LIMITS, which the worker
 * enforces too: a clip capture takes is one the worker can embed, and a refusal carries the worker's own code.
 */
export interface CaptureLimits {
  /** Clips above this go to the Object Store (ADR 0001: 512 KiB). */
  inlineLimitBytes: number;
  /** Larger uploads are refused with AUDIO_TOO_LONG (413). */
  maxBytes: number;
  /** Clips whose header says they are longer are refused with AUDIO_TOO_LONG. */
  maxDurationMs: number;
  /** Clips whose header says they are shorter are refused with AUDIO_TOO_SHORT (default: the contract's). */
  minDurationMs?: number;
  /** Uncompressed clips quieter than this (without DC) are refused with AUDIO_SILENT (default: the contract's). */
  silenceDbfs?: number;
}

export const DEFAULT_LIMITS: Required<CaptureLimits> = {
  inlineLimitBytes: INLINE_AUDIO_LIMIT_BYTES,
  maxBytes: AUDIO_LIMITS.maxBytes,
  maxDurationMs: AUDIO_LIMITS.maxDurationMs,
  minDurationMs: AUDIO_LIMITS.minDurationMs,
  silenceDbfs: AUDIO_LIMITS.silenceDbfs,
};

export interface AudioInput {
  bytes: Uint8Array;
  /** Declared media type; empty means "sniff the bytes". */
  contentType?: string;
  deviceId: string;
  room?: string;
  transcript?: string;
  tags?: Record<string, string>;
  capturedAt?: Date;
  /** A deterministic id (e.g. from the content hash) makes a retried publish a JetStream duplicate. */
  id?: string;
}

export interface Published {
  id: string;
  subject: string;
  seq: number;
  duplicate: boolean;
  event: AudioCaptured;
}

/**
 * Validates one clip, then publishes `audio.captured.<device>` with the audio as the body, or (above the inline
 * limit) stores it in the Object Store first and publishes the reference. Throws a SpeakersError: AUDIO_* for bad
 * input, BUS_UNAVAILABLE or BACKPRESSURE when the bus cannot take it now (nothing was published: retry later).
 */
export async function publishAudio(
  bus: Bus,
  input: AudioInput,
  options: { limits?: CaptureLimits; health?: BusHealth } = {},
): Promise<Published> {
  const limits = options.limits ?? DEFAULT_LIMITS;
  if (input.bytes.length > limits.maxBytes) {
    throw new SpeakersError(
      "AUDIO_TOO_LONG",
      `The clip has ${input.bytes.length} bytes; the limit is ${limits.maxBytes}.`,
      {
        details: { bytes: input.bytes.length, maxBytes: limits.maxBytes },
      },
    );
  }
  const sniffed = await sniffAudio(input.bytes, input.contentType ?? "");
  checkContent(input.bytes, sniffed, limits);
  // Fail fast instead of letting the client library buffer while the server is away.
  options.health?.assertUp();

  const id = input.id ?? randomUUID();
  const event: AudioCaptured = {
    source: {
      service: SERVICE_NAME,
      deviceId: input.deviceId,
      ...(input.room === undefined ? {} : { room: input.room }),
    },
    capturedAt: (input.capturedAt ?? new Date()).toISOString(),
    format: sniffed.format,
    ...(sniffed.durationMs === undefined ? {} : { durationMs: sniffed.durationMs }),
    bytes: input.bytes.length,
    ...(input.transcript === undefined || input.transcript === "" ? {} : clipTranscript(input.transcript)),
    audio: { kind: "inline" },
    ...(input.tags === undefined ? {} : { tags: input.tags }),
  };
  // Check the caller's fields before anything is stored, so a bad device id leaves no orphan clip behind.
  checkRequest(event);
  let body: Uint8Array | undefined = input.bytes;
  if (input.bytes.length > limits.inlineLimitBytes) {
    const ref = await busCall(() =>
      putClip(bus, `captured/${id}`, input.bytes, { contentType: sniffed.contentType }),
    );
    event.audio = { kind: "object", bucket: ref.bucket, name: ref.name, digest: ref.digest };
    body = undefined;
  }
  const result = await busCall(() =>
    publish(bus, AudioCapturedEvent, event, {
      id,
      source: CE_SOURCE,
      contentType: sniffed.contentType,
      ...(body === undefined ? {} : { body }),
    }),
  );
  return {
    id: result.id,
    subject: AudioCapturedEvent.subjectFor(event),
    seq: result.seq,
    duplicate: result.duplicate,
    event,
  };
}

/** What the worker would refuse, refused here with its code, in the worker's order: short, silent, long. */
function checkContent(bytes: Uint8Array, sniffed: SniffedAudio, limits: CaptureLimits): void {
  const minMs = limits.minDurationMs ?? DEFAULT_LIMITS.minDurationMs;
  const silenceDbfs = limits.silenceDbfs ?? DEFAULT_LIMITS.silenceDbfs;
  const { durationMs } = sniffed;
  if (durationMs !== undefined && durationMs < minMs) {
    throw new SpeakersError(
      "AUDIO_TOO_SHORT",
      `The clip lasts ${durationMs} ms; recognising a voice needs at least ${minMs / 1000} s.`,
      { details: { durationMs, minDurationMs: minMs } },
    );
  }
  // Before the length: ten minutes of silence is a microphone problem, not a length problem.
  const level = pcmLevelDbfs(bytes, sniffed.contentType);
  if (level !== undefined && level < silenceDbfs) {
    throw new SpeakersError(
      "AUDIO_SILENT",
      `The clip's level is ${Number.isFinite(level) ? `${level.toFixed(1)} dBFS` : "zero"} without its DC offset, below the silence threshold (${silenceDbfs} dBFS).`,
      { details: { dbfs: Number.isFinite(level) ? Math.round(level * 10) / 10 : null } },
    );
  }
  if (durationMs !== undefined && durationMs > limits.maxDurationMs) {
    throw new SpeakersError(
      "AUDIO_TOO_LONG",
      `The clip lasts ${durationMs / 1000} s; clips of at most ${limits.maxDurationMs / 1000} s are recognised.`,
      {
        details: { durationMs, maxDurationMs: limits.maxDurationMs },
        hint: `Split the recording into clips of at most ${limits.maxDurationMs / 1000} s.`,
      },
    );
  }
}

function checkRequest(event: AudioCaptured): void {
  const issues = validationIssues(AudioCapturedEvent, event);
  if (issues.length > 0) {
    const where = issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ");
    throw new SpeakersError("INVALID_REQUEST", `The capture request is invalid: ${where}`, {
      details: { issues: issues.map((issue) => ({ ...issue })) },
    });
  }
}

/** JetStream errors meaning "the stream is full and refuses new messages", as opposed to "the server is away". */
const FULL = /maximum (messages|bytes|msgs)|insufficient resources|resource limits exceeded|storage full/i;

/** Normalises bus failures: a full stream is BACKPRESSURE, anything else unexpected is BUS_UNAVAILABLE. */
async function busCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const text = causeText(err);
    if (FULL.test(text)) {
      throw new SpeakersError("BACKPRESSURE", `The bus refused the clip: ${text}`, { cause: err });
    }
    if (isSpeakersError(err)) throw err;
    throw new SpeakersError("BUS_UNAVAILABLE", `The bus refused the clip: ${text}`, { cause: err });
  }
}

function causeText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error && parts.length < 5; e = e.cause) parts.push(e.message);
  return parts.length > 0 ? parts.join(": ") : String(err);
}
