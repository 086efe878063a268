import type { UnknownClip } from "@speakers/events";
import { type Static, Type } from "@speakers/plugin-sdk";

// The endpoint payloads are declared once in @speakers/events, where clients read them too.
export {
  ClipRequestSchema,
  NameClipRequestSchema as NameRequestSchema,
  type UnknownClip,
} from "@speakers/events";

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
