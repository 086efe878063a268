import { readFileSync } from "node:fs";
import { publishAudio } from "@speakers/audio-capture";
import { fetchAudio } from "@speakers/plugin-sdk";
import { devClips, sleep, startTestBus, type TestBus } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * How the plugins read an earlier clip back (`ctx.audio`, what unknown-voices does for every unknown voice).
 * Each AUDIO message a lookup passes makes nats-server load the 8 MB file-store block that holds it; a lookup
 * that started a minute before the capture time loaded the last minute of audio every time, and nats-server's
 * memory grew with the traffic (ADR 0001, "AUDIO reads").
 */
describe("reading a clip back from AUDIO", () => {
  let t: TestBus;
  const clip = readFileSync(devClips()[0]?.path ?? "");

  beforeAll(async () => {
    t = await startTestBus("audio-lookup-test");
  });
  afterAll(async () => {
    await t?.stop();
  });

  const capture = (deviceId: string, capturedAt?: Date) =>
    publishAudio(t.bus, { bytes: clip, deviceId, room: "porch", ...(capturedAt ? { capturedAt } : {}) });

  it("reads only what was captured just before the clip, not the minute before it", async () => {
    for (let i = 0; i < 30; i++) await capture("porch-satellite");
    // Stored well before the clip's capture time: a lookup has no reason to read them.
    await sleep(2_500);
    const target = await capture("porch-satellite");
    const got = await fetchAudio(t.bus, {
      sourceEventId: target.id,
      source: target.event.source,
      capturedAt: target.event.capturedAt,
    });
    expect(Buffer.from(got.bytes).equals(clip)).toBe(true);
    expect(got.scanned).toBe(1);
  });

  it("still finds the clip of a device whose clock runs ahead of the server's", async () => {
    await capture("fast-clock-satellite");
    const target = await capture("fast-clock-satellite", new Date(Date.now() + 30_000));
    await capture("fast-clock-satellite");
    const got = await fetchAudio(t.bus, {
      sourceEventId: target.id,
      source: target.event.source,
      capturedAt: target.event.capturedAt,
    });
    expect(got.eventId).toBe(target.id);
    expect(Buffer.from(got.bytes).equals(clip)).toBe(true);
    // The first pass (from 2 s before the claimed time, 28 s in the server's future) finds nothing; the second
    // reads from a minute before up to where the first began.
    expect(got.scanned).toBe(2);
  });

  it("says AUDIO_OBJECT_NOT_FOUND for an event that is not there", async () => {
    await capture("porch-satellite");
    await expect(
      fetchAudio(t.bus, {
        sourceEventId: "no-such-event",
        source: { service: "audio-capture", deviceId: "porch-satellite" },
        capturedAt: new Date().toISOString(),
      }),
    ).rejects.toMatchObject({ code: "AUDIO_OBJECT_NOT_FOUND" });
  });
});
