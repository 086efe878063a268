import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** The LibriSpeech dev recordings (never copied into the repo): $SPEAKERS_DEV_AUDIO or ../shared/audio/dev. */
export function devAudioDir(): string {
  const dir = process.env.SPEAKERS_DEV_AUDIO ?? resolve(import.meta.dirname, "../../../../shared/audio/dev");
  if (!existsSync(join(dir, "manifest.csv"))) {
    throw new Error(`no dev audio at ${dir}; set SPEAKERS_DEV_AUDIO to a folder of <speaker>/<file>.flac`);
  }
  return dir;
}

/** The shortest clip of at least 2 s per speaker (fast on two cores), in speaker order: absolute paths. */
export function devClips(dir = devAudioDir()): string[] {
  const best = new Map<string, { seconds: number; path: string }>();
  const [, ...rows] = readFileSync(join(dir, "manifest.csv"), "utf8").trim().split("\n");
  for (const row of rows) {
    const [path, speaker, duration] = row.split(",");
    const seconds = Number(duration);
    if (!path || !speaker || !(seconds >= 2)) continue;
    const current = best.get(speaker);
    if (!current || seconds < current.seconds) best.set(speaker, { seconds, path: join(dir, path) });
  }
  return [...best.keys()].sort().map((speaker) => best.get(speaker)?.path ?? "");
}
