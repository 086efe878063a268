import { kvKey, type Static, Type } from "@speakers/plugin-sdk";

/** What the `presence` KV bucket holds per speaker: where and when they were last heard. */
export const PresenceRecordSchema = Type.Object({
  speakerId: Type.String(),
  name: Type.String(),
  room: Type.Optional(Type.String()),
  deviceId: Type.Optional(Type.String()),
  lastHeardAt: Type.String({ description: "RFC 3339" }),
  score: Type.Number(),
  eventId: Type.String({ description: "the speaker.identified event" }),
});
export type PresenceRecord = Static<typeof PresenceRecordSchema>;

/** Speakers erased from the registry: never recorded again, even by an identification that raced it. */
export const ERASED_PREFIX = "erased.";

export function erasedKey(speakerId: string): string {
  return kvKey(`${ERASED_PREFIX}${speakerId}`);
}

export const PresenceConfigSchema = Type.Object({
  homeWindowMinutes: Type.Number({ minimum: 0, default: 30, description: "heard within this long = home" }),
});

export const WhoIsHomeRequestSchema = Type.Object({
  windowMinutes: Type.Optional(Type.Number({ minimum: 0 })),
});

export const LastHeardRequestSchema = Type.Object({
  speakerId: Type.Optional(Type.String({ minLength: 1 })),
  name: Type.Optional(Type.String({ minLength: 1 })),
});

export interface WhoIsHomeReply {
  at: string;
  windowMinutes: number;
  home: PresenceRecord[];
}

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
