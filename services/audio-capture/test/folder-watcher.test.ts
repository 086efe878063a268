import { createHash } from "node:crypto";
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { Kvm } from "@nats-io/kv";
import {
  createFolderWatcher,
  fileEventId,
  publishAudio,
  type SeenRecord,
  watchBusHealth,
} from "@speakers/audio-capture";
import { closeBus, connectBus, createLogger } from "@speakers/bus";
import { devClips, eventually, type TestBus, useTestBus } from "@speakers/test-support";
import { beforeEach, describe, expect, it } from "vitest";

async function audioCount(t: TestBus, device: string): Promise<number> {
  const subject = `audio.captured.${device}`;
  const info = await t.bus.jsm.streams.info("AUDIO", { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

describe("folder watcher", () => {
  const t = useTestBus("folder-watcher-test", { local: true });
  let dir: string;
  // Every test uses its own clips: ingest-seen and the event ids are keyed by content, across tests too.
  const all = devClips();
  const clips = all.slice(0, 3);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "speakers-watch-"));
  });

  it("publishes each file once, also after a restart, and remembers refused files", async () => {
    for (const clip of clips) copyFileSync(clip.path, join(dir, basename(clip.path)));
    writeFileSync(join(dir, "broken.wav"), "not a wav file at all");
    writeFileSync(join(dir, "notes.md"), "ignored: not audio");
    const first = clips[0]?.path ?? "";
    writeFileSync(join(dir, `${basename(first, ".flac")}.txt`), "a transcript from the satellite\n");

    const watcher = createFolderWatcher({ bus: t.bus }, { dir, deviceId: "porch", stableMs: 0 });
    const report = await watcher.scan();
    expect(report.published).toHaveLength(3);
    expect(report.rejected.map((p) => basename(p))).toEqual(["broken.wav"]);
    expect((await watcher.scan()).published).toEqual([]);
    expect(await audioCount(t, "porch")).toBe(3);

    const kv = await new Kvm(t.bus.js).open("ingest-seen");
    const hash = createHash("sha256").update(readFileSync(first)).digest("hex");
    const seen = (await kv.get(hash))?.json<SeenRecord>();
    expect(seen).toMatchObject({ status: "published", eventId: fileEventId(hash) });
    const broken = createHash("sha256").update("not a wav file at all").digest("hex");
    expect((await kv.get(broken))?.json<SeenRecord>()).toMatchObject({
      status: "rejected",
      code: "AUDIO_CORRUPT",
    });

    // A restarted service has a fresh connection and no memory but the KV bucket; a renamed copy is the same clip.
    const bus2 = await connectBus({
      servers: t.server.url,
      name: "folder-watcher-restarted",
      logger: createLogger("w2", { level: "silent" }),
    });
    try {
      copyFileSync(first, join(dir, "renamed-copy.flac"));
      const restarted = createFolderWatcher({ bus: bus2 }, { dir, deviceId: "porch", stableMs: 0 });
      expect(await restarted.scan()).toEqual({ published: [], rejected: [], waiting: [] });
    } finally {
      await closeBus(bus2);
    }
    expect(await audioCount(t, "porch")).toBe(3);
  });

  it("stores a clip once when the service crashed between publishing and recording it", async () => {
    const clip = all[3]?.path ?? "";
    const bytes = readFileSync(clip);
    const hash = createHash("sha256").update(bytes).digest("hex");
    // What the crashed run did: the publish went out, the ingest-seen record did not.
    await publishAudio(t.bus, { bytes, deviceId: "garage", id: fileEventId(hash) });
    copyFileSync(clip, join(dir, "clip.flac"));
    const watcher = createFolderWatcher(
      { bus: t.bus },
      { dir, deviceId: "garage", stableMs: 0, bucket: "ingest-seen" },
    );
    const kv = await new Kvm(t.bus.js).open("ingest-seen");
    await kv.purge(hash);
    expect((await watcher.scan()).published).toHaveLength(1);
    expect(await audioCount(t, "garage")).toBe(1);
  });

  it("waits for a file to stop growing before reading it", async () => {
    const watcher = createFolderWatcher({ bus: t.bus }, { dir, deviceId: "attic", stableMs: 300 });
    copyFileSync(all[4]?.path ?? "", join(dir, "fresh.flac"));
    expect((await watcher.scan()).published).toEqual([]);
    await new Promise((r) => setTimeout(r, 350));
    expect((await watcher.scan()).published).toHaveLength(1);
  });

  it("publishes a file written in two parts once, whole, when its writer is done (chokidar awaitWriteFinish)", async () => {
    const watcher = createFolderWatcher({ bus: t.bus }, { dir, deviceId: "loft", stableMs: 1_000 });
    await watcher.start();
    try {
      const bytes = readFileSync(all[5]?.path ?? "");
      const path = join(dir, "recording.flac");
      writeFileSync(path, bytes.subarray(0, bytes.length >> 1));
      await new Promise((r) => setTimeout(r, 200));
      appendFileSync(path, bytes.subarray(bytes.length >> 1));
      await eventually(async () => ((await audioCount(t, "loft")) === 1 ? true : undefined), 20_000);
      const hash = createHash("sha256").update(bytes).digest("hex");
      const kv = await new Kvm(t.bus.js).open("ingest-seen");
      expect((await kv.get(hash))?.json<SeenRecord>()).toMatchObject({ status: "published" });
    } finally {
      await watcher.stop();
    }
    expect(await audioCount(t, "loft")).toBe(1);
  });

  it("leaves files in the folder while the bus is down and publishes them when it is back", async () => {
    const health = watchBusHealth(t.bus.nc);
    const watcher = createFolderWatcher(
      { bus: t.bus, health },
      { dir, deviceId: "cellar", stableMs: 0, pollMs: 100 },
    );
    try {
      await watcher.scan(); // opens the KV bucket while the server is up
      process.kill(t.server.pid ?? 0, "SIGTERM");
      await eventually(() => (health.up ? undefined : true));
      for (const clip of all.slice(7, 10)) copyFileSync(clip.path, join(dir, basename(clip.path)));
      await watcher.start();
      await new Promise((r) => setTimeout(r, 300));
      await t.server.restart();
      // Right after the restart JetStream may still be recovering its streams: a failed look-up just polls again.
      const stored = async () => ((await audioCount(t, "cellar").catch(() => 0)) === 3 ? true : undefined);
      await eventually(stored, 30_000);
    } finally {
      await watcher.stop();
      health.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
