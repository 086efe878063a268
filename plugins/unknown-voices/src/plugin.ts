import { type EnrollItem, EnrollMeta, EnrollReply } from "@speakers/events";
import {
  definePlugin,
  type PluginContext,
  type PluginKv,
  type PluginObjects,
  SpeakersError,
  type Static,
} from "@speakers/plugin-sdk";
import {
  ClipRequestSchema,
  clipIdFor,
  clipsToDrop,
  NameRequestSchema,
  type UnknownClip,
  type UnknownVoicesConfig,
  UnknownVoicesConfigSchema,
} from "./records.js";

type Ctx = PluginContext<UnknownVoicesConfig>;

/** Markers older than this go: long enough for every watcher of the bucket to have seen the delete. */
const MARKER_AGE_MS = 60_000;

async function stores(ctx: Ctx): Promise<{ kv: PluginKv; objects: PluginObjects }> {
  return { kv: await ctx.kv(), objects: await ctx.objects() };
}

/** Drops expired clips and the oldest beyond `maxClips`; returns the ones kept, newest first. */
async function sweep(ctx: Ctx): Promise<UnknownClip[]> {
  const { kv, objects } = await stores(ctx);
  const clips = (await kv.entries<UnknownClip>()).map((e) => e.value);
  const drop = clipsToDrop(clips, ctx.config, Date.now());
  for (const clip of drop) {
    await objects.delete(clip.clipId).catch(() => {});
    await kv.purge(clip.clipId);
  }
  const dropped = new Set(drop.map((c) => c.clipId));
  if (drop.length > 0) {
    ctx.logger.info({ dropped: drop.length }, "unknown clips expired or over the bound");
    // Each dropped clip leaves a purge marker on its own subject; without this the bucket (and the server's
    // per-subject index) grows with every unknown clip ever heard, and each sweep reads them all.
    await kv.compact(MARKER_AGE_MS);
  }
  return clips
    .filter((c) => !dropped.has(c.clipId))
    .sort((a, b) => Date.parse(b.capturedAt) - Date.parse(a.capturedAt));
}

async function requireClip(ctx: Ctx, clipId: string): Promise<{ clip: UnknownClip; audio: Uint8Array }> {
  const { kv, objects } = await stores(ctx);
  const clip = await kv.get<UnknownClip>(clipId);
  const audio = clip ? await objects.get(clipId) : undefined;
  if (!clip || !audio) {
    throw new SpeakersError("AUDIO_OBJECT_NOT_FOUND", `No unknown clip ${clipId}; it may have expired.`, {
      hint: "List the clips again (speakers.unknown-voices.list) and pick a current id.",
    });
  }
  return { clip, audio };
}

/**
 * Keeps the clips of voices the registry did not recognise (bounded, expiring), so a user can listen, name
 * one and enroll the speaker from it. Endpoints under `speakers.unknown-voices.`: `list`, `audio` (the clip's
 * bytes), `name` (enroll with the registry, then forget the clip) and `delete`.
 */
export const unknownVoices = definePlugin({
  name: "unknown-voices",
  version: "0.1.0",
  description: "Clips of unrecognised voices, to name and enroll later.",
  config: UnknownVoicesConfigSchema,
  on: {
    "speaker.identified": async (event, ctx) => {
      if (event.decision !== "unknown") return;
      const { kv, objects } = await stores(ctx);
      const clipId = clipIdFor(event.sourceEventId);
      if ((await kv.get<UnknownClip>(clipId)) !== undefined) return; // a redelivery
      const audio = await ctx.audio(event);
      await objects.put(clipId, audio.bytes, { contentType: audio.contentType });
      const clip: UnknownClip = {
        clipId,
        sourceEventId: event.sourceEventId,
        capturedAt: audio.event.capturedAt,
        storedAt: new Date().toISOString(),
        ...(audio.event.source.room === undefined ? {} : { room: audio.event.source.room }),
        deviceId: audio.event.source.deviceId,
        contentType: audio.contentType,
        format: audio.event.format,
        bytes: audio.bytes.length,
        ...(audio.event.durationMs === undefined ? {} : { durationMs: audio.event.durationMs }),
        ...(audio.event.transcript === undefined ? {} : { transcript: audio.event.transcript }),
        candidates: event.candidates,
      };
      // Index last: a clip listed in KV always has its audio.
      await kv.put(clipId, clip);
      await sweep(ctx);
    },
  },
  start(ctx) {
    ctx.serve("list", async () => ({ clips: await sweep(ctx) }));
    ctx.serve(
      "audio",
      async (req) => (await requireClip(ctx, (req.data as Static<typeof ClipRequestSchema>).clipId)).audio,
      ClipRequestSchema,
    );
    ctx.serve(
      "name",
      async (req) => {
        const { clipId, name } = req.data as Static<typeof NameRequestSchema>;
        const { clip, audio } = await requireClip(ctx, clipId);
        const enroll = (item: EnrollItem, body?: Uint8Array) =>
          ctx.call(ctx.config.enrollSubject, {
            request: EnrollMeta,
            payload: { name, items: [{ ...item, label: clipId }] },
            ...(body === undefined ? {} : { body }),
            reply: EnrollReply,
            timeoutMs: 120_000,
          });
        // By its audio event first: the sample then names the event it came from, so erasing the speaker later
        // erases that recording from AUDIO too. The kept copy is the fallback once the event has aged out.
        let reply = await enroll({ length: 0, eventId: clip.sourceEventId }).catch((err: unknown) => {
          if (err instanceof SpeakersError && err.code === "AUDIO_OBJECT_NOT_FOUND") return undefined;
          throw err;
        });
        if (reply === undefined || reply.quality[0]?.code === "AUDIO_OBJECT_NOT_FOUND") {
          reply = await enroll(
            {
              length: audio.length,
              format: clip.format.encoding,
              sampleRate: clip.format.sampleRate,
              channels: clip.format.channels,
            },
            audio,
          );
        }
        // Enrolled: the clip did its job. Refused (too short, another speaker's voice): keep it for another try.
        if (reply.result.outcome === "enrolled") {
          const { kv, objects } = await stores(ctx);
          await kv.delete(clipId);
          await objects.delete(clipId).catch(() => {});
        }
        return { clipId, enrolled: reply.result.outcome === "enrolled", reply };
      },
      NameRequestSchema,
    );
    ctx.serve(
      "delete",
      async (req) => {
        const { clipId } = req.data as Static<typeof ClipRequestSchema>;
        await requireClip(ctx, clipId);
        const { kv, objects } = await stores(ctx);
        await kv.delete(clipId);
        await objects.delete(clipId).catch(() => {});
        return { clipId, deleted: true };
      },
      ClipRequestSchema,
    );
    // Expiry also runs when nothing new arrives.
    const timer = setInterval(
      () => {
        sweep(ctx).catch((err) => ctx.logger.warn({ err }, "sweep failed"));
      },
      Math.min(60_000, Math.max(1_000, (ctx.config.ttlSeconds * 1000) / 4)),
    );
    return () => clearInterval(timer);
  },
});
