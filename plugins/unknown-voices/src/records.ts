import type { AudioFormat, CandidateRef } from "@speakers/plugin-sdk";
import { type Static, Type } from "@speakers/plugin-sdk";

export const UnknownVoicesConfigSchema = Type.Object({
  maxClips: Type.Integer({ minimum: 1, default: 50, description: "oldest clips are dropped beyond this" }),
  ttlSeconds: Type.Number({
    minimum: 1,
    default: 7 * 24 * 3600,
    description: "clips older than this expire",
  }),
  enrollSubject: Type.String({ default: "speakers.registry.enroll" }),
});
export type UnknownVoicesConfig = Static<typeof UnknownVoicesConfigSchema>;

/** The index entry of one kept clip (the audio itself is an object of the same name). */
export interface UnknownClip {
  clipId: string;
  sourceEventId: string;
  capturedAt: string;
  storedAt: string;
  room?: string;
  deviceId?: string;
  contentType: string;
  format: AudioFormat;
  bytes: number;
  durationMs?: number;
  transcript?: string;
  /** The closest enrolled voices, best first, by candidate ref (a speaker's `ref` while they exist). */
  candidates: CandidateRef[];
}

export const ClipRequestSchema = Type.Object({ clipId: Type.String({ minLength: 1 }) });
export const NameRequestSchema = Type.Object({
  clipId: Type.String({ minLength: 1 }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
});

export function clipIdFor(sourceEventId: string): string {
  return `clip-${sourceEventId.replace(/[^-_a-zA-Z0-9]/g, "_")}`;
}

/** Which clips to drop: the expired ones, then the oldest beyond the bound. */
export function clipsToDrop(clips: UnknownClip[], config: UnknownVoicesConfig, now: number): UnknownClip[] {
  const cutoff = now - config.ttlSeconds * 1000;
  const expired = clips.filter((c) => Date.parse(c.storedAt) < cutoff);
  const live = clips
    .filter((c) => Date.parse(c.storedAt) >= cutoff)
    .sort((a, b) => Date.parse(b.capturedAt) - Date.parse(a.capturedAt));
  return [...expired, ...live.slice(config.maxClips)];
}
