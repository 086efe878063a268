import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { createFolderWatcher, publishFiles, sniffAudio } from "@speakers/audio-capture";
import { isSpeakersError } from "@speakers/events";
import { devClips, useTestBus } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENCODINGS, type Encoding, encodeWithFfmpeg } from "./encode.js";

const clip = devClips().find((c) => c.durationS >= 6);

/** MP3, WebM/Opus and M4A/AAC: what phones and browsers record (issue 12 item 3), at the edge. */
describe.each(Object.keys(ENCODINGS) as Encoding[])("%s from a real encoder", (encoding) => {
  const bytes = encodeWithFfmpeg(clip?.path ?? "", encoding, 5);

  it("is sniffed with and without a declared media type: rate, channels, duration", async () => {
    for (const declared of [ENCODINGS[encoding].mediaType, ""]) {
      const sniffed = await sniffAudio(bytes, declared);
      expect(sniffed.format.encoding).toBe(encoding);
      // music-metadata reads 2 channels from this mono AAC (ffprobe says 1); the worker decodes the real count.
      expect(sniffed.format.channels).toBe(encoding === "mp4" ? 2 : 1);
      expect(sniffed.format.sampleRate).toBe(encoding === "webm" ? 48_000 : 16_000);
      expect(sniffed.contentType).toBe(ENCODINGS[encoding].mediaType);
      expect(Math.abs((sniffed.durationMs ?? 0) - 5000)).toBeLessThan(150);
    }
  });

  it("is refused when labelled as another format", async () => {
    const code = await sniffAudio(bytes, "audio/flac").catch((err) =>
      isSpeakersError(err) ? err.code : err,
    );
    expect(code).toBe("AUDIO_CORRUPT");
  });
});

describe("compressed formats at the edge", () => {
  it("refuses an M4A cut short with AUDIO_TRUNCATED", async () => {
    // ffmpeg writes the moov box at the end, so a cut file has no complete index.
    const m4a = encodeWithFfmpeg(clip?.path ?? "", "mp4", 5);
    const code = await sniffAudio(m4a.subarray(0, Math.floor(m4a.length * 0.7)), "audio/mp4").catch((err) =>
      isSpeakersError(err) ? err.code : err,
    );
    expect(code).toBe("AUDIO_TRUNCATED");
  });
});

describe("compressed formats enter through every door", () => {
  const t = useTestBus("capture-formats-test");
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "speakers-formats-"));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("publishes .mp3, .webm and .m4a files from the CLI and from the watched folder", async () => {
    const files = (Object.keys(ENCODINGS) as Encoding[]).map((encoding, i) => {
      const path = join(dir, `memo-${i}.${ENCODINGS[encoding].ext}`);
      writeFileSync(path, encodeWithFfmpeg(clip?.path ?? "", encoding, 3 + i));
      return { path, encoding };
    });
    const results = await publishFiles(
      t.bus,
      files.map((f) => f.path),
      { deviceId: "phone" },
    );
    expect(results.map((r) => (r.ok ? r.published.event.format.encoding : r.error.code))).toEqual(
      files.map((f) => f.encoding),
    );

    const watched = mkdtempSync(join(dir, "watch-"));
    for (const f of files)
      writeFileSync(join(watched, `again-${basename(f.path)}`), encodeWithFfmpeg(f.path, f.encoding, 2.5));
    const report = await createFolderWatcher(
      { bus: t.bus },
      { dir: watched, deviceId: "memos", stableMs: 0 },
    ).scan();
    expect(report.published).toHaveLength(3);
    expect(report.rejected).toEqual([]);
  });
});
