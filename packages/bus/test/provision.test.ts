import { StorageType } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { nanos } from "@nats-io/nats-core";
import {
  CLIP_BUCKET,
  closeBus,
  connectBus,
  createLogger,
  defaultTopology,
  getClip,
  provision,
  putClip,
  updateKv,
} from "@speakers/bus";
import { KV_BUCKETS, STREAMS } from "@speakers/events";
import { useTestBus } from "@speakers/test-support";
import { describe, expect, it } from "vitest";

const DAY_MS = 24 * 60 * 60 * 1000;

describe("provision", () => {
  const t = useTestBus("provision-test");

  it("creates the ADR 0001 streams with file storage, limits and a duplicate window", async () => {
    const audio = await t.bus.jsm.streams.info("AUDIO");
    expect(audio.config).toMatchObject({
      subjects: ["audio.captured.>", "audio.transcribed.>"],
      storage: StorageType.File,
      max_age: nanos(30 * DAY_MS),
      max_bytes: 10 * 1024 ** 3,
      discard: "old",
      duplicate_window: nanos(2 * 60 * 1000),
    });
    const names: string[] = [];
    for await (const s of t.bus.jsm.streams.list()) names.push(s.config.name);
    for (const s of Object.values(STREAMS)) expect(names).toContain(s.name);
    expect((await t.bus.jsm.streams.info("SPEAKERS")).config.max_age).toBe(nanos(90 * DAY_MS));
    const worker = await t.bus.jsm.consumers.info("AUDIO", "embedding-worker");
    expect(worker.config).toMatchObject({ ack_policy: "explicit", filter_subjects: ["audio.captured.>"] });
  });

  it("is idempotent: a second run (from another connection) changes nothing and keeps data", async () => {
    const kv = await new Kvm(t.bus.js).open(KV_BUCKETS.speakers.name);
    await kv.put("alice", "kept");
    const before = await t.bus.jsm.streams.info("AUDIO");
    const other = await connectBus({
      servers: t.server.url,
      name: "second-provisioner",
      logger: createLogger("second", { level: "silent" }),
    });
    try {
      const report = await provision(other);
      expect(report.streams).toEqual({
        AUDIO: "updated",
        EMBEDDINGS: "updated",
        SPEAKERS: "updated",
        DEADLETTER: "updated",
      });
      expect(Object.values(report.consumers).every((a) => a === "updated")).toBe(true);
    } finally {
      await closeBus(other);
    }
    const after = await t.bus.jsm.streams.info("AUDIO");
    expect(after.config).toEqual(before.config);
    expect(after.created).toBe(before.created);
    expect((await kv.get("alice"))?.string()).toBe("kept");
    const buckets: string[] = [];
    for await (const b of new Kvm(t.bus.js).list()) buckets.push(b.bucket);
    expect(buckets.sort()).toEqual(
      Object.values(KV_BUCKETS)
        .map((b) => b.name)
        .sort(),
    );
  });

  it("applies a changed retention to an existing stream", async () => {
    await provision(t.bus, defaultTopology({ audioMaxAgeMs: 7 * DAY_MS }));
    expect((await t.bus.jsm.streams.info("AUDIO")).config.max_age).toBe(nanos(7 * DAY_MS));
    await provision(t.bus);
    expect((await t.bus.jsm.streams.info("AUDIO")).config.max_age).toBe(nanos(30 * DAY_MS));
  });

  it("stores and reads back a clip in the audio-clips Object Store", async () => {
    const bytes = new Uint8Array(700 * 1024).map((_, i) => i % 251);
    const ref = await putClip(t.bus, "clips/kitchen/1.wav", bytes, { contentType: "audio/wav" });
    expect(ref).toMatchObject({
      kind: "object",
      bucket: CLIP_BUCKET,
      name: "clips/kitchen/1.wav",
      size: bytes.length,
    });
    expect(ref.digest).toMatch(/^SHA-256=/);
    // Buffer.equals: a deep toEqual over 700 K elements takes seconds.
    expect(Buffer.from(await getClip(t.bus, ref.name)).equals(bytes)).toBe(true);
    await expect(getClip(t.bus, "clips/missing.wav")).rejects.toMatchObject({
      code: "AUDIO_OBJECT_NOT_FOUND",
    });
  });

  it("lands two concurrent compare-and-set updates of one KV key", async () => {
    const kv = await new Kvm(t.bus.js).open(KV_BUCKETS.voiceprints.name);
    const add = (name: string) =>
      updateKv<{ samples: string[] }>(kv, "spk_1", async (current) => {
        // Yield between read and write so the two updaters really interleave.
        await new Promise((r) => setTimeout(r, 5));
        return { samples: [...(current?.samples ?? []), name] };
      });
    const results = await Promise.all([add("a"), add("b"), add("c"), add("d")]);
    const final = (await kv.get("spk_1"))?.json<{ samples: string[] }>();
    expect(final?.samples.sort()).toEqual(["a", "b", "c", "d"]);
    expect(new Set(results.map((r) => r.revision)).size).toBe(4);

    await kv.delete("spk_1");
    const recreated = await updateKv<{ samples: string[] }>(kv, "spk_1", (current) => ({
      samples: [...(current?.samples ?? []), "fresh"],
    }));
    expect(recreated.value).toEqual({ samples: ["fresh"] });
  });

  it("gives up with CONFLICT when the key keeps changing", async () => {
    const kv = await new Kvm(t.bus.js).open(KV_BUCKETS.presence.name);
    await kv.put("room", "0");
    let n = 0;
    const err = await updateKv<number>(
      kv,
      "room",
      async (current) => {
        // Another writer sneaks in between every read and write.
        await kv.put("room", String(++n));
        return (current ?? 0) + 1;
      },
      { retries: 2 },
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "CONFLICT" });
    expect(n).toBe(3);
  });
});
