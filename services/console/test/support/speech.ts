import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { devClips } from "@speakers/test-support";

/** The dev recordings of each speaker, longest first (the microphone test wants long continuous speech). */
export function speakers(): Map<string, string[]> {
  const by = new Map<string, { path: string; s: number }[]>();
  for (const c of devClips()) {
    const list = by.get(c.speaker) ?? [];
    list.push({ path: c.path, s: c.durationS });
    by.set(c.speaker, list);
  }
  return new Map(
    [...by]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, v.sort((x, y) => y.s - x.s).map((c) => c.path)]),
  );
}

/** Several FLAC recordings joined into one 16 kHz mono WAV with ffmpeg, for Chromium's fake microphone. */
export function wavOf(files: string[]): string {
  const out = join(mkdtempSync(join(tmpdir(), "console-mic-")), "mic.wav");
  const inputs = files.flatMap((f) => ["-i", f]);
  const filter = `${files.map((_, i) => `[${i}:a]`).join("")}concat=n=${files.length}:v=0:a=1[a]`;
  execFileSync("ffmpeg", [
    "-v",
    "error",
    ...inputs,
    "-filter_complex",
    filter,
    "-map",
    "[a]",
    "-ar",
    "16000",
    "-ac",
    "1",
    out,
  ]);
  return out;
}
