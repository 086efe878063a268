import { publish } from "@speakers/bus";
import { HEADERS, SpeakerDeleted, SpeakerUpdated } from "@speakers/events";
import { type PresenceRecord, presence, type WhoIsHomeReply } from "@speakers/plugin-presence";
import { type RunningPlugin, startPlugin } from "@speakers/plugin-sdk";
import { consumerIdle, eventually, publishIdentified, useTestBus } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

describe("presence plugin", () => {
  const t = useTestBus("presence-test");
  let plugin: RunningPlugin;

  beforeAll(async () => {
    plugin = await startPlugin(t.bus, presence, { config: { homeWindowMinutes: 30 } });
  });
  afterAll(async () => {
    await plugin?.stop();
  });

  const ask = async <T>(endpoint: string, body: unknown = {}) => {
    const reply = await t.bus.nc.request(`speakers.presence.${endpoint}`, JSON.stringify(body));
    return { status: reply.headers?.get(HEADERS.serviceErrorCode) ?? "200", data: reply.json<T>() };
  };

  it("records who was heard where and answers who-is-home and last-heard from the KV", async () => {
    await publishIdentified(t.bus, { name: "Alice", room: "kitchen", capturedAt: ago(5) });
    await publishIdentified(t.bus, { name: "Bob", room: "hall", capturedAt: ago(120) });
    await publishIdentified(t.bus, { unknown: true, room: "porch", capturedAt: ago(1) });
    // A late, older sighting (a replay) must not move Alice back to the bedroom.
    const last = await publishIdentified(t.bus, { name: "Alice", room: "bedroom", capturedAt: ago(20) });
    await eventually(async () => (await consumerIdle(t.bus.jsm, "SPEAKERS", "plugin-presence")) || undefined);

    const home = await ask<WhoIsHomeReply>("who-is-home");
    expect(home.data.windowMinutes).toBe(30);
    expect(home.data.home.map((r) => [r.name, r.room])).toEqual([["Alice", "kitchen"]]);
    const wide = await ask<WhoIsHomeReply>("who-is-home", { windowMinutes: 180 });
    expect(wide.data.home.map((r) => r.name)).toEqual(["Alice", "Bob"]);

    const bob = await ask<PresenceRecord>("last-heard", { name: "bob" });
    expect(bob.data).toMatchObject({ speakerId: "spk_bob", room: "hall", deviceId: "hall-satellite" });
    const all = await ask<{ speakers: PresenceRecord[] }>("last-heard");
    expect(all.data.speakers.map((r) => r.name)).toEqual(["Alice", "Bob"]);
    expect(all.data.speakers[0]?.eventId).not.toBe(last);

    const missing = await ask<{ code: string }>("last-heard", { speakerId: "spk_nobody" });
    expect([missing.status, missing.data.code]).toEqual(["404", "SPEAKER_NOT_FOUND"]);
    const bad = await ask<{ code: string }>("who-is-home", { windowMinutes: -1 });
    expect([bad.status, bad.data.code]).toEqual(["400", "INVALID_REQUEST"]);
  });

  it("follows renames and forgets deleted speakers", async () => {
    await publishIdentified(t.bus, { name: "Carol", room: "office", capturedAt: ago(1) });
    await publish(
      t.bus,
      SpeakerUpdated,
      {
        speakerId: "spk_carol",
        name: "Caroline",
        change: { kind: "renamed", from: "Carol", to: "Caroline" },
      },
      { source: "/test/registry" },
    );
    await eventually(async () => {
      const r = await ask<PresenceRecord>("last-heard", { speakerId: "spk_carol" });
      return r.data.name === "Caroline" ? true : undefined;
    });
    await publish(
      t.bus,
      SpeakerDeleted,
      { speakerId: "spk_carol", erased: { samples: 1, voiceprints: 1, clips: 0 } },
      { source: "/test/registry" },
    );
    await eventually(async () =>
      (await ask("last-heard", { speakerId: "spk_carol" })).status === "404" ? true : undefined,
    );
  });

  it("erasure purges every earlier sighting from the KV history, and a late one does not bring them back", async () => {
    const drained = () =>
      eventually(async () => (await consumerIdle(t.bus.jsm, "SPEAKERS", "plugin-presence")) || undefined);
    // Everything the bucket's stream still holds for the key, read raw (what `nats kv history` shows).
    const history = async () => {
      const out: { operation: string; length: number }[] = [];
      const c = await t.bus.js.consumers.get("KV_presence", { filter_subjects: "$KV.presence.spk_dana" });
      const pending = (await c.info(true)).num_pending;
      if (pending === 0) return out;
      for await (const m of await c.fetch({ max_messages: pending, expires: 5_000 })) {
        out.push({ operation: m.headers?.get("KV-Operation") || "PUT", length: m.data.length });
        if (m.info.pending === 0) break;
      }
      return out;
    };
    for (const [room, minutes] of [
      ["kitchen", 9],
      ["hall", 6],
      ["garden", 3],
    ] as const) {
      await publishIdentified(t.bus, { name: "Dana", room, capturedAt: ago(minutes) });
    }
    await drained();
    expect((await history()).filter((e) => e.operation === "PUT").length).toBeGreaterThanOrEqual(3);

    await publish(
      t.bus,
      SpeakerDeleted,
      { speakerId: "spk_dana", erased: { samples: 3, voiceprints: 1, clips: 3 } },
      { source: "/test/registry" },
    );
    await drained();
    // Nothing of where Dana was (room, device, time, score) is readable, not even from history.
    expect(await history()).toEqual([{ operation: "PURGE", length: 0 }]);

    // An identification that raced the erasure, delivered after speaker.deleted.
    await publishIdentified(t.bus, { name: "Dana", room: "porch", capturedAt: ago(0) });
    await drained();
    expect((await history()).filter((e) => e.operation === "PUT")).toEqual([]);
    expect((await ask("last-heard", { speakerId: "spk_dana" })).status).toBe("404");
    const home = await ask<WhoIsHomeReply>("who-is-home", { windowMinutes: 600 });
    expect(home.data.home.map((r) => r.speakerId)).not.toContain("spk_dana");
  });
});
