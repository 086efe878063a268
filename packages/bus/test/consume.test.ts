import { headers as natsHeaders } from "@nats-io/nats-core";
import {
  type ConsumeHandle,
  type ConsumeOptions,
  consume,
  DEAD_LETTER_HEADERS,
  type Delivery,
  ensureConsumer,
  PermanentError,
  publish,
} from "@speakers/bus";
import {
  AudioCaptured,
  audioContentType,
  type EventDefinition,
  HEADERS,
  SpeakerEnrolled,
  SpeakerIdentified,
  SpeakersError,
} from "@speakers/events";
import { eventually, readDeadLetters, useTestBus } from "@speakers/test-support";
import { afterEach, describe, expect, it } from "vitest";

describe("consume", () => {
  const t = useTestBus("consume-test");
  let handle: ConsumeHandle | undefined;
  let consumerNo = 0;

  afterEach(async () => {
    await handle?.stop();
    handle = undefined;
    await t.bus.jsm.streams.purge("SPEAKERS");
  });

  /**
   * Consumes SPEAKERS through a durable of its own on `filter` (so deliveries never leak between tests), kept
   * in `handle` for afterEach; returns the durable's name.
   */
  async function consumeFresh<D extends EventDefinition>(
    filter: string,
    options: Omit<ConsumeOptions<D>, "stream" | "durable">,
  ): Promise<string> {
    const durable = `test-${++consumerNo}`;
    await ensureConsumer(t.bus, { stream: "SPEAKERS", durable, filterSubjects: [filter], deliver: "new" });
    handle = await consume(t.bus, { stream: "SPEAKERS", durable, ...options });
    return durable;
  }

  it("redelivers after a handler failure and acks once after success", async () => {
    const seen: Delivery[] = [];
    const durable = await consumeFresh("speaker.identified", {
      defs: [SpeakerIdentified],
      backoffMs: 50,
      handler: (d) => {
        seen.push(d);
        if (seen.length < 3) throw new Error(`flaky dependency, try ${seen.length}`);
      },
    });
    const res = await publish(t.bus, SpeakerIdentified, SpeakerIdentified.fixture, {
      source: "/test",
      correlationId: "chain-7",
    });

    await eventually(async () => {
      const info = await t.bus.jsm.consumers.info("SPEAKERS", durable);
      return info.ack_floor.stream_seq === res.seq ? info : undefined;
    });
    expect(seen.map((d) => d.meta.deliveryCount)).toEqual([1, 2, 3]);
    expect(seen.map((d) => d.meta.redelivered)).toEqual([false, true, true]);
    const last = seen[2];
    expect(last?.data).toEqual(SpeakerIdentified.fixture);
    expect(last?.meta).toMatchObject({
      id: res.id,
      type: SpeakerIdentified.typeId,
      source: "/test",
      correlationId: "chain-7",
      subject: "speaker.identified",
      seq: res.seq,
    });
    const info = await t.bus.jsm.consumers.info("SPEAKERS", durable);
    expect(info.num_pending).toBe(0);
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_redelivered).toBe(0);
    const dl = await t.bus.jsm.streams.info("DEADLETTER");
    expect(dl.state.messages).toBe(0);
  });

  it("dead-letters an invalid payload with its reason and never hands it to the handler", async () => {
    const handled: Delivery[] = [];
    const durable = await consumeFresh("speaker.enrolled", {
      defs: [SpeakerEnrolled],
      handler: (d) => {
        handled.push(d);
      },
    });
    const h = natsHeaders();
    h.set(HEADERS.ceId, "bad-1");
    h.set(HEADERS.ceType, SpeakerEnrolled.typeId);
    h.set(HEADERS.ceSource, "/broken-publisher");
    const body = JSON.stringify({ ...SpeakerEnrolled.fixture, samples: 0 });
    const ack = await t.bus.js.publish("speaker.enrolled", body, { headers: h });
    // A valid event behind it must still flow.
    await publish(t.bus, SpeakerEnrolled, SpeakerEnrolled.fixture, { source: "/test" });

    const [dead] = await readDeadLetters(t.bus, "deadletter.speaker.enrolled", 1);
    expect(dead?.string()).toBe(body);
    expect(dead?.headers?.get(HEADERS.deadCode)).toBe("INVALID_EVENT");
    expect(dead?.headers?.get(HEADERS.deadReason)).toMatch(/\/samples/);
    expect(dead?.headers?.get(HEADERS.ceId)).toBe("bad-1");
    expect(dead?.headers?.get(HEADERS.ceSource)).toBe("/broken-publisher");
    expect(dead?.headers?.get(DEAD_LETTER_HEADERS.stream)).toBe("SPEAKERS");
    expect(dead?.headers?.get(DEAD_LETTER_HEADERS.seq)).toBe(String(ack.seq));
    expect(dead?.headers?.get(DEAD_LETTER_HEADERS.consumer)).toBe(durable);

    await eventually(() => (handled.length === 1 ? true : undefined));
    expect(handled[0]?.data).toEqual(SpeakerEnrolled.fixture);
    const info = await eventually(async () => {
      const i = await t.bus.jsm.consumers.info("SPEAKERS", durable);
      return i.num_ack_pending === 0 && i.num_pending === 0 ? i : undefined;
    });
    expect(info.num_redelivered).toBe(0);
  });

  it("dead-letters an unknown event type and a message without ce-type", async () => {
    await consumeFresh("speaker.deleted", {
      defs: [SpeakerIdentified],
      handler: () => {},
    });
    const h = natsHeaders();
    h.set(HEADERS.ceType, "speakers.speaker.deleted.v9");
    await t.bus.js.publish("speaker.deleted", "{}", { headers: h });
    await t.bus.js.publish("speaker.deleted", "no headers at all");
    const dead = await readDeadLetters(t.bus, "deadletter.speaker.deleted", 2);
    expect(dead.map((m) => m.headers?.get(HEADERS.deadReason))).toEqual([
      expect.stringContaining("unexpected ce-type speakers.speaker.deleted.v9"),
      "missing ce-type header",
    ]);
  });

  it("dead-letters a permanent failure at once, and a transient one when deliveries run out", async () => {
    const attempts = new Map<string, number>();
    const durable = await consumeFresh("speaker.identified", {
      defs: [SpeakerIdentified],
      maxDeliver: 3,
      backoffMs: 20,
      handler: (d) => {
        attempts.set(d.meta.id, (attempts.get(d.meta.id) ?? 0) + 1);
        if (d.meta.id === "permanent") throw new SpeakersError("SPEAKER_NOT_FOUND", "spk_x is gone");
        if (d.meta.id === "marked") throw new PermanentError("cannot ever work");
        throw new Error("still down");
      },
    });
    for (const id of ["permanent", "marked", "transient"]) {
      await publish(t.bus, SpeakerIdentified, SpeakerIdentified.fixture, { id, source: "/test" });
    }

    const dead = await readDeadLetters(t.bus, "deadletter.speaker.identified", 3);
    const byId = new Map(dead.map((m) => [m.headers?.get(HEADERS.ceId), m]));
    expect(byId.get("permanent")?.headers?.get(HEADERS.deadCode)).toBe("SPEAKER_NOT_FOUND");
    expect(byId.get("permanent")?.headers?.get(HEADERS.deadReason)).toContain("spk_x is gone");
    expect(byId.get("marked")?.headers?.get(HEADERS.deadCode)).toBe("INTERNAL");
    expect(byId.get("transient")?.headers?.get(HEADERS.deadReason)).toContain("failed 3 times: still down");
    expect(byId.get("transient")?.headers?.get(DEAD_LETTER_HEADERS.deliveries)).toBe("3");
    expect(attempts).toEqual(
      new Map([
        ["permanent", 1],
        ["marked", 1],
        ["transient", 3],
      ]),
    );
    const info = await eventually(async () => {
      const i = await t.bus.jsm.consumers.info("SPEAKERS", durable);
      return i.num_ack_pending === 0 ? i : undefined;
    });
    expect(info.num_pending).toBe(0);
  });

  it("hands an audio event over with the audio as body and the event from Speakers-Meta", async () => {
    const durable = `audio-${++consumerNo}`;
    const got: Delivery[] = [];
    handle = await consume(t.bus, {
      stream: "AUDIO",
      durable,
      defs: [AudioCaptured],
      create: { filterSubjects: ["audio.captured.>"], deliver: "new" },
      handler: (d) => {
        got.push(d);
      },
    });
    const audio = new Uint8Array([1, 2, 3, 250]);
    await publish(t.bus, AudioCaptured, AudioCaptured.fixture, {
      source: "/test",
      body: audio,
      contentType: audioContentType(AudioCaptured.fixture.format),
    });
    const [d] = await eventually(() => (got.length > 0 ? got : undefined));
    expect(Array.from(d?.body ?? [])).toEqual(Array.from(audio));
    expect(d?.data).toEqual(AudioCaptured.fixture);
    expect(d?.meta.contentType).toBe("audio/wav");
    expect(d?.meta.subject).toBe("audio.captured.kitchen-satellite");
  });

  it("refuses to consume from a consumer that does not exist", async () => {
    await expect(
      consume(t.bus, { stream: "SPEAKERS", durable: "nobody", defs: [SpeakerIdentified], handler: () => {} }),
    ).rejects.toMatchObject({ code: "BUS_UNAVAILABLE" });
  });
});
