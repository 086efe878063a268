import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Formats people have, made by a real encoder (Debian's ffmpeg) from real dev speech at test time. */
export const ENCODINGS = {
  mp3: { ext: "mp3", args: ["-c:a", "libmp3lame", "-b:a", "64k"], mediaType: "audio/mpeg" },
  webm: { ext: "webm", args: ["-c:a", "libopus", "-b:a", "32k"], mediaType: "audio/webm" },
  mp4: { ext: "m4a", args: ["-c:a", "aac", "-b:a", "64k"], mediaType: "audio/mp4" },
} as const;
export type Encoding = keyof typeof ENCODINGS;

export const FFMPEG = "/usr/bin/ffmpeg";

/** `input` (any file ffmpeg reads) as `encoding`, optionally cut to `seconds`; extra args go before the output. */
export function encodeWithFfmpeg(
  input: string,
  encoding: Encoding,
  seconds?: number,
  extra: string[] = [],
): Buffer {
  const dir = mkdtempSync(join(tmpdir(), "speakers-encode-"));
  try {
    const out = join(dir, `clip.${ENCODINGS[encoding].ext}`);
    const cut = seconds === undefined ? [] : ["-t", String(seconds)];
    execFileSync(FFMPEG, [
      "-loglevel",
      "error",
      "-i",
      input,
      ...cut,
      ...ENCODINGS[encoding].args,
      ...extra,
      out,
    ]);
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
