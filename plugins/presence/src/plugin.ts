import { definePlugin, kvKey, SpeakersError, type Static } from "@speakers/plugin-sdk";
import {
  ERASED_PREFIX,
  erasedKey,
  LastHeardRequestSchema,
  newer,
  PresenceConfigSchema,
  type PresenceRecord,
  type WhoIsHomeReply,
  WhoIsHomeRequestSchema,
  whoIsHome,
} from "./records.js";

/**
 * Who was heard where and when. Every known identification updates the speaker's entry in the `presence` KV
 * bucket; `speakers.presence.who-is-home` lists speakers heard within the window, and
 * `speakers.presence.last-heard` answers for one speaker (by id or name) or all of them.
 */
export const presence = definePlugin({
  name: "presence",
  version: "0.1.0",
  description: "Who was heard where and when; who is home.",
  config: PresenceConfigSchema,
  kv: { bucket: "presence", history: 5 },
  on: {
    "speaker.identified": async (event, ctx) => {
      if (event.decision !== "known" || !event.speaker) return;
      const kv = await ctx.kv();
      // An identification that raced the erasure may arrive after speaker.deleted (the registry erases it
      // from the stream right after, but this consumer may already hold it).
      if ((await kv.get(erasedKey(event.speaker.id))) !== undefined) return;
      const record: PresenceRecord = {
        speakerId: event.speaker.id,
        name: event.speaker.name,
        ...(event.source?.room === undefined ? {} : { room: event.source.room }),
        ...(event.source?.deviceId === undefined ? {} : { deviceId: event.source.deviceId }),
        lastHeardAt: event.capturedAt ?? ctx.event.time,
        score: event.score,
        eventId: ctx.event.id,
      };
      await kv.update<PresenceRecord>(kvKey(record.speakerId), (current) => newer(current, record));
      // The erasure may have purged between the check above and this write: look again, after it.
      if ((await kv.get(erasedKey(record.speakerId))) !== undefined) await kv.purge(kvKey(record.speakerId));
    },
    "speaker.updated": async (event, ctx) => {
      if (event.change.kind !== "renamed") return;
      const kv = await ctx.kv();
      const key = kvKey(event.speakerId);
      if ((await kv.get<PresenceRecord>(key)) === undefined) return;
      await kv.update<PresenceRecord>(key, (current) => ({
        ...(current as PresenceRecord),
        name: event.name,
      }));
    },
    "speaker.deleted": async (event, ctx) => {
      // Forgetting a deleted speaker includes forgetting where they were, earlier sightings included: a
      // purge, since a delete leaves the history readable. The marker holds only the (random) id.
      const kv = await ctx.kv();
      await kv.put(erasedKey(event.speakerId), { erasedAt: ctx.event.time });
      await kv.purge(kvKey(event.speakerId));
    },
  },
  start(ctx) {
    const records = async () =>
      (await (await ctx.kv()).entries<PresenceRecord>())
        .filter((e) => !e.key.startsWith(ERASED_PREFIX))
        .map((e) => e.value);
    ctx.serve(
      "who-is-home",
      async (req): Promise<WhoIsHomeReply> => {
        const { windowMinutes = ctx.config.homeWindowMinutes } = req.data as Static<
          typeof WhoIsHomeRequestSchema
        >;
        const now = Date.now();
        return {
          at: new Date(now).toISOString(),
          windowMinutes,
          home: whoIsHome(await records(), windowMinutes, now),
        };
      },
      WhoIsHomeRequestSchema,
    );
    ctx.serve(
      "last-heard",
      async (req) => {
        const { speakerId, name } = req.data as Static<typeof LastHeardRequestSchema>;
        const all = await records();
        if (speakerId === undefined && name === undefined) {
          return { speakers: all.sort((a, b) => Date.parse(b.lastHeardAt) - Date.parse(a.lastHeardAt)) };
        }
        const found = all.find(
          (r) =>
            r.speakerId === speakerId || (name !== undefined && r.name.toLowerCase() === name.toLowerCase()),
        );
        if (!found) {
          throw new SpeakersError(
            "SPEAKER_NOT_FOUND",
            `${speakerId ?? name} has not been heard (or was deleted).`,
          );
        }
        return found;
      },
      LastHeardRequestSchema,
    );
  },
});
