import { randomUUID } from "node:crypto";
import { type Bus, publish, putClip } from "@speakers/bus";
import {
  type AudioCaptured,
  AudioCaptured as AudioCapturedEvent,
  clipTranscript,
  INLINE_AUDIO_LIMIT_BYTES,
  isSpeakersError,
  SpeakersError,
  validationIssues,
} from "@speakers/events";
import type { BusHealth } from "./bus-health.js";
import { sniffAudio } from "./sniff.js";

export const SERVICE_NAME = "audio-capture";
export const CE_SOURCE = "/services/audio-capture";

export interface CaptureLimits {
  /** Clips above this go to the Object Store (ADR 0001: 512 KiB). */
  inlineLimitBytes: number;
  /** Larger uploads are refused with AUDIO_TOO_LONG (413). */
  maxBytes: number;
  /** Clips whose header says they are longer are refused with AUDIO_TOO_LONG. */
  maxDurationMs: number;
}

export const DEFAULT_LIMITS: CaptureLimits = {
  inlineLimitBytes: INLINE_AUDIO_LIMIT_BYTES,
  maxBytes: 64 * 1024 * 1024,
  maxDurationMs: 10 * 60 * 1000,
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
  const sniffed = sniffAudio(input.bytes, input.contentType ?? "");
  if (sniffed.durationMs !== undefined && sniffed.durationMs > limits.maxDurationMs) {
    throw new SpeakersError(
      "AUDIO_TOO_LONG",
      `The clip lasts ${sniffed.durationMs} ms; the limit is ${limits.maxDurationMs} ms.`,
      {
        details: { durationMs: sniffed.durationMs, maxDurationMs: limits.maxDurationMs },
      },
    );
  }
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
