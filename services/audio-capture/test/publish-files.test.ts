import { publishFiles } from "@speakers/audio-capture";
import { devClips, useTestBus } from "@speakers/test-support";
import { describe, expect, it } from "vitest";

describe("publishFiles (speakers publish)", () => {
  const t = useTestBus("publish-files-test");

  it("publishes every readable file, reports the others, and stores a re-run once", async () => {
    const files = devClips()
      .slice(5, 7)
      .map((c) => c.path);
    const seen: number[] = [];
    const results = await publishFiles(t.bus, [...files, "/nonexistent/clip.flac"], {
      deviceId: "cli",
      room: "office",
      onResult: (_r, index) => seen.push(index),
    });
    expect(seen).toEqual([0, 1, 2]);
    expect(results.map((r) => r.ok)).toEqual([true, true, false]);
    const failed = results[2];
    expect(failed?.ok === false && failed.error.code).toBe("AUDIO_PATH_NOT_FOUND");

    const again = await publishFiles(t.bus, files, { deviceId: "cli" });
    expect(again.map((r) => r.ok && r.duplicate)).toEqual([true, true]);
    const info = await t.bus.jsm.streams.info("AUDIO", { subjects_filter: "audio.captured.cli" });
    expect(info.state.subjects?.["audio.captured.cli"]).toBe(2);
  });
});
