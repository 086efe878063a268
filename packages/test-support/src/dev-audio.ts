import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { devAudioDir } from "@speakers/runtime";

/** The LibriSpeech dev clips: `$SPEAKERS_DEV_AUDIO`, else `../shared/audio/dev` beside the repo (never copied in). */
export const DEV_AUDIO = devAudioDir();

export interface DevClip {
  path: string;
  speaker: string;
  durationS: number;
  sampleRate: number;
}

/** Rows of the dev set's manifest.csv: path,speaker,duration_s,sample_rate,sha256. */
export function devClips(dir = DEV_AUDIO): DevClip[] {
  const manifest = join(dir, "manifest.csv");
  if (!existsSync(manifest)) {
    throw new Error(`no dev audio at ${dir}; set SPEAKERS_DEV_AUDIO to a folder of <speaker>/<file>.flac`);
  }
  const rows = readFileSync(manifest, "utf8").trim().split("\n").slice(1);
  return rows.map((row) => {
    const [path = "", speaker = "", duration = "0", rate = "0"] = row.split(",");
    return { path: join(dir, path), speaker, durationS: Number(duration), sampleRate: Number(rate) };
  });
}

/** The speaker folders of the dev set, sorted. */
export function devSpeakers(dir = DEV_AUDIO): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/** A speaker's recordings (FLAC or WAV), sorted by name: absolute paths. */
export function devFiles(speaker: string, dir = DEV_AUDIO): string[] {
  return readdirSync(join(dir, speaker))
    .filter((f) => /\.(flac|wav)$/i.test(f))
    .sort()
    .map((f) => join(dir, speaker, f));
}

/** The shortest clip of at least `minSeconds` per speaker (fast on two cores), in speaker order. */
export function shortClipPerSpeaker(minSeconds = 2, dir = DEV_AUDIO): string[] {
  const best = new Map<string, DevClip>();
  for (const clip of devClips(dir)) {
    if (!clip.speaker || !(clip.durationS >= minSeconds)) continue;
    const current = best.get(clip.speaker);
    if (!current || clip.durationS < current.durationS) best.set(clip.speaker, clip);
  }
  return [...best.keys()].sort().map((speaker) => best.get(speaker)?.path ?? "");
}

/** A recording's bytes. */
export function readClip(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}
