import type { PresenceRecord } from "@speakers/events";
import { kvKey, Type } from "@speakers/plugin-sdk";

// The record and the endpoint payloads are declared once in @speakers/events, where clients read them too.
export {
  LastHeardRequestSchema,
  type PresenceRecord,
  PresenceRecordSchema,
  type WhoIsHomeReply,
  WhoIsHomeRequestSchema,
} from "@speakers/events";

/** Speakers erased from the registry: never recorded again, even by an identification that raced it. */
export const ERASED_PREFIX = "erased.";

export function erasedKey(speakerId: string): string {
  return kvKey(`${ERASED_PREFIX}${speakerId}`);
}

export const PresenceConfigSchema = Type.Object({
  homeWindowMinutes: Type.Number({ minimum: 0, default: 30, description: "heard within this long = home" }),
});

/** Keeps the newer sighting: replays and redeliveries of older events never move someone back in time. */
export function newer(current: PresenceRecord | undefined, next: PresenceRecord): PresenceRecord {
  if (current && Date.parse(current.lastHeardAt) > Date.parse(next.lastHeardAt)) return current;
  return next;
}

/** Speakers heard within the window before `now`, most recent first. */
export function whoIsHome(records: PresenceRecord[], windowMinutes: number, now: number): PresenceRecord[] {
  const since = now - windowMinutes * 60_000;
  return records
    .filter((r) => Date.parse(r.lastHeardAt) >= since)
    .sort((a, b) => Date.parse(b.lastHeardAt) - Date.parse(a.lastHeardAt));
}
