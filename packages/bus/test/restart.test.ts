import { consume, ensureConsumer, publish } from "@speakers/bus";
import { SpeakerIdentified } from "@speakers/events";
import { eventually, useTestBus } from "@speakers/test-support";
import { describe, expect, it } from "vitest";

describe("server restart mid-stream", () => {
  const t = useTestBus("restart-test", { local: true });

  it("loses no JetStream message when the server stops and starts again", async () => {
    await ensureConsumer(t.bus, {
      stream: "SPEAKERS",
      durable: "restart",
      filterSubjects: ["speaker.identified"],
    });
    const handled = new Map<string, number>();
    const handle = await consume(t.bus, {
      stream: "SPEAKERS",
      durable: "restart",
      defs: [SpeakerIdentified],
      backoffMs: 50,
      handler: (d) => {
        handled.set(d.meta.id, (handled.get(d.meta.id) ?? 0) + 1);
      },
    });
    const ids = Array.from({ length: 40 }, (_, i) => `evt-${i}`);
    const send = (id: string) =>
      publish(t.bus, SpeakerIdentified, SpeakerIdentified.fixture, { id, source: "/t" });

    for (const id of ids.slice(0, 20)) await send(id);
    const pid = t.server.pid;
    await t.server.restart();
    expect(t.server.pid).not.toBe(pid);
    // Publishes right after the restart ride the client's reconnect and publish retries.
    for (const id of ids.slice(20)) await send(id);

    await eventually(() => (ids.every((id) => handled.has(id)) ? true : undefined), 30_000);
    await handle.stop();
    const info = await t.bus.jsm.streams.info("SPEAKERS");
    expect(info.state.messages).toBe(40);
    expect([...handled.keys()].sort()).toEqual([...ids].sort());
    const consumer = await eventually(async () => {
      const c = await t.bus.jsm.consumers.info("SPEAKERS", "restart");
      return c.num_ack_pending === 0 ? c : undefined;
    });
    expect(consumer.num_pending).toBe(0);
    expect(consumer.ack_floor.stream_seq).toBe(40);
  });
});
