import { jetstreamManager } from "@nats-io/jetstream";
import { provision, publish } from "@speakers/bus";
import { AudioCaptured, audioContentType, HEADERS, SpeakerIdentified } from "@speakers/events";
import { useTestBus } from "@speakers/test-support";
import { describe, expect, it } from "vitest";

describe("publish", () => {
  const t = useTestBus("publish-test");

  it("stores a duplicate publish once", async () => {
    const id = "sid-duplicate-test";
    const first = await publish(t.bus, SpeakerIdentified, SpeakerIdentified.fixture, { id, source: "/test" });
    const second = await publish(t.bus, SpeakerIdentified, SpeakerIdentified.fixture, {
      id,
      source: "/test",
    });
    expect(first).toMatchObject({ id, stream: "SPEAKERS", duplicate: false });
    expect(second).toMatchObject({ id, seq: first.seq, duplicate: true });
    const info = await t.bus.jsm.streams.info("SPEAKERS");
    expect(info.state.messages).toBe(1);
  });

  it("sets CloudEvents binary-mode headers and a JSON body", async () => {
    const time = new Date("2026-11-23T18:00:00.000Z");
    const res = await publish(t.bus, SpeakerIdentified, SpeakerIdentified.fixture, {
      source: "/services/speaker-registry",
      correlationId: "chain-1",
      time,
    });
    expect(res.id).toMatch(/^[0-9a-f-]{36}$/);
    const msg = await t.bus.jsm.streams.getMessage("SPEAKERS", { seq: res.seq });
    const h = msg?.header;
    expect(h?.get(HEADERS.ceSpecVersion)).toBe("1.0");
    expect(h?.get(HEADERS.ceId)).toBe(res.id);
    expect(h?.get(HEADERS.natsMsgId)).toBe(res.id);
    expect(h?.get(HEADERS.ceType)).toBe("speakers.speaker.identified.v1");
    expect(h?.get(HEADERS.ceSource)).toBe("/services/speaker-registry");
    expect(h?.get(HEADERS.ceTime)).toBe(time.toISOString());
    expect(h?.get(HEADERS.ceDataContentType)).toBe("application/json");
    expect(h?.get(HEADERS.ceCorrelationId)).toBe("chain-1");
    expect(msg?.subject).toBe("speaker.identified");
    expect(msg?.json()).toEqual(SpeakerIdentified.fixture);
  });

  it("sends audio as the body and the event in Speakers-Meta, non-ASCII intact", async () => {
    const audio = new Uint8Array([82, 73, 70, 70, 1, 2, 3, 4]);
    const event = AudioCaptured.fixture;
    const res = await publish(t.bus, AudioCaptured, event, {
      source: "/services/audio-capture",
      body: audio,
      contentType: audioContentType(event.format),
    });
    const msg = await t.bus.jsm.streams.getMessage("AUDIO", { seq: res.seq });
    expect(msg?.subject).toBe("audio.captured.kitchen-satellite");
    expect(msg?.data).toEqual(audio);
    expect(msg?.header.get(HEADERS.ceDataContentType)).toBe("audio/wav");
    expect(JSON.parse(msg?.header.get(HEADERS.meta) ?? "")).toEqual(event);
  });

  it("publishes on the subject its token names", async () => {
    const res = await publish(t.bus, AudioCaptured, AudioCaptured.fixture, {
      source: "/test",
      body: new Uint8Array([1]),
      contentType: "audio/wav",
      token: "Living Room",
    });
    const msg = await t.bus.jsm.streams.getMessage("AUDIO", { seq: res.seq });
    expect(msg?.subject).toBe("audio.captured.living_room");
  });

  it("refuses an invalid payload, an audio event without a content type, and a body on a JSON event", async () => {
    const before = (await t.bus.jsm.streams.info("SPEAKERS")).state.messages;
    const bad = { ...SpeakerIdentified.fixture, score: 7 };
    await expect(publish(t.bus, SpeakerIdentified, bad, { source: "/test" })).rejects.toMatchObject({
      code: "INVALID_EVENT",
      message: expect.stringContaining("/score"),
    });
    await expect(
      publish(t.bus, AudioCaptured, AudioCaptured.fixture, { source: "/test", body: new Uint8Array([1]) }),
    ).rejects.toMatchObject({ code: "INVALID_EVENT" });
    await expect(
      publish(t.bus, SpeakerIdentified, SpeakerIdentified.fixture, {
        source: "/test",
        body: new Uint8Array([1]),
      }),
    ).rejects.toMatchObject({ code: "INVALID_EVENT" });
    expect((await t.bus.jsm.streams.info("SPEAKERS")).state.messages).toBe(before);
  });

  it("reports a subject no stream stores as BUS_UNAVAILABLE", async () => {
    const jsm = await jetstreamManager(t.bus.nc);
    await jsm.streams.delete("SPEAKERS");
    try {
      await expect(
        publish(t.bus, SpeakerIdentified, SpeakerIdentified.fixture, { source: "/test" }),
      ).rejects.toMatchObject({ code: "BUS_UNAVAILABLE" });
    } finally {
      await provision(t.bus);
    }
  });
});
