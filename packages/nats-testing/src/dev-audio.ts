import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** The LibriSpeech dev clips: `$SPEAKERS_DEV_AUDIO`, else `../shared/audio/dev` beside the repo (never copied in). */
export const DEV_AUDIO =
  process.env.SPEAKERS_DEV_AUDIO ?? resolve(import.meta.dirname, "../../../../shared/audio/dev");

export interface DevClip {
  path: string;
  speaker: string;
  durationS: number;
  sampleRate: number;
}

/** Rows of the dev set's manifest.csv: path,speaker,duration_s,sample_rate,sha256. */
export function devClips(): DevClip[] {
  const rows = readFileSync(join(DEV_AUDIO, "manifest.csv"), "utf8").trim().split("\n").slice(1);
  return rows.map((row) => {
    const [path = "", speaker = "", duration = "0", rate = "0"] = row.split(",");
    return { path: join(DEV_AUDIO, path), speaker, durationS: Number(duration), sampleRate: Number(rate) };
  });
}
