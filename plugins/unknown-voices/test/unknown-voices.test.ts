import { readFileSync } from "node:fs";
import { publishAudio } from "@speakers/audio-capture";
import { HEADERS } from "@speakers/events";
import { type RunningPlugin, startPlugin } from "@speakers/plugin-sdk";
import { type UnknownClip, unknownVoices } from "@speakers/plugin-unknown-voices";
import { consumerIdle, devClips, eventually, publishIdentified, useTestBus } from "@speakers/test-support";
import { afterEach, describe, expect, it } from "vitest";

describe("unknown-voices plugin", () => {
  const t = useTestBus("unknown-voices-test");
  let plugin: RunningPlugin | undefined;
  const clips = devClips();
  let clipNo = 0;
  const start = Date.now() - 3_600_000;

  afterEach(async () => {
    await plugin?.stop();
    plugin = undefined;
  });

  const ask = async (endpoint: string, body: unknown = {}) => {
    const reply = await t.bus.nc.request(`speakers.unknown-voices.${endpoint}`, JSON.stringify(body), {
      timeout: 10_000,
    });
    return { status: reply.headers?.get(HEADERS.serviceErrorCode) ?? "200", reply };
  };
  const list = async () => (await ask("list")).reply.json<{ clips: UnknownClip[] }>().clips;

  /** Captures a real clip (as audio-capture does) and has the "registry" call it unknown; returns the audio. */
  async function unknownClip(inlineLimitBytes = 512 * 1024): Promise<{ bytes: Uint8Array; eventId: string }> {
    const clip = clips[clipNo++ % clips.length];
    const bytes = readFileSync(clip?.path ?? "");
    const captured = await publishAudio(
      t.bus,
      // Spaced capture times, so "newest first" is well defined however fast the test runs.
      {
        bytes,
        deviceId: "hall-satellite",
        room: "hall",
        transcript: "who is there",
        capturedAt: new Date(start + clipNo * 1000),
      },
      { limits: { inlineLimitBytes, maxBytes: 64 << 20, maxDurationMs: 600_000 } },
    );
    await publishIdentified(t.bus, {
      unknown: true,
      sourceEventId: captured.id,
      source: captured.event.source,
      capturedAt: captured.event.capturedAt,
    });
    return { bytes, eventId: captured.id };
  }

  it("keeps the audio of unknown voices, inline or from the Object Store, and ignores known ones", async () => {
    plugin = await startPlugin(t.bus, unknownVoices, { config: { maxClips: 10 } });
    const inline = await unknownClip();
    const large = await unknownClip(1024); // forces the Object Store path for this one
    await publishIdentified(t.bus, { name: "Alice" });
    const kept = await eventually(async () => {
      const all = await list();
      return all.length === 2 ? all : undefined;
    });
    expect(kept.map((c) => c.sourceEventId).sort()).toEqual([inline.eventId, large.eventId].sort());
    expect(kept[0]).toMatchObject({
      room: "hall",
      deviceId: "hall-satellite",
      contentType: "audio/flac",
      transcript: "who is there",
    });

    for (const [clip, audio] of [
      [kept.find((c) => c.sourceEventId === inline.eventId), inline.bytes],
      [kept.find((c) => c.sourceEventId === large.eventId), large.bytes],
    ] as const) {
      const got = await ask("audio", { clipId: clip?.clipId });
      expect(got.status).toBe("200");
      expect(Buffer.from(got.reply.data).equals(Buffer.from(audio))).toBe(true);
    }

    const deleted = await ask("delete", { clipId: kept[0]?.clipId });
    expect(deleted.reply.json()).toEqual({ clipId: kept[0]?.clipId, deleted: true });
    expect(await list()).toHaveLength(1);
    const gone = await ask("audio", { clipId: kept[0]?.clipId });
    expect([gone.status, gone.reply.json<{ code: string }>().code]).toEqual([
      "404",
      "AUDIO_OBJECT_NOT_FOUND",
    ]);
  });

  it("keeps at most maxClips, newest first, and lets clips expire", async () => {
    plugin = await startPlugin(t.bus, unknownVoices, { config: { maxClips: 2, ttlSeconds: 3 } });
    for (const clip of await list()) await ask("delete", { clipId: clip.clipId });
    const sent = [await unknownClip(), await unknownClip(), await unknownClip()];
    await eventually(
      async () => (await consumerIdle(t.bus.jsm, "SPEAKERS", "plugin-unknown-voices")) || undefined,
    );
    const kept = await list();
    expect(kept.map((c) => c.sourceEventId)).toEqual([sent[2]?.eventId, sent[1]?.eventId]);
    const objects = await t.bus.jsm.streams.info("OBJ_plugin-unknown-voices");
    expect(objects.state.num_subjects).toBeGreaterThan(0);

    await eventually(async () => ((await list()).length === 0 ? true : undefined), 10_000);
    const dropped = await ask("audio", { clipId: kept[0]?.clipId });
    expect(dropped.status).toBe("404");
  });

  it("answers a naming request with a typed error while no registry is running, keeping the clip", async () => {
    plugin = await startPlugin(t.bus, unknownVoices, { config: { enrollSubject: "speakers.nobody.enroll" } });
    const clip = await unknownClip();
    const kept = await eventually(async () => (await list()).find((c) => c.sourceEventId === clip.eventId));
    const named = await ask("name", { clipId: kept.clipId, name: "Bob" });
    expect(named.status).toBe("503");
    expect((await list()).some((c) => c.clipId === kept.clipId)).toBe(true);
    const bad = await ask("name", { clipId: kept.clipId });
    expect([bad.status, bad.reply.json<{ code: string }>().code]).toEqual(["400", "INVALID_REQUEST"]);
  });
});
