import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** The shared LibriSpeech dev set: one folder per speaker, FLAC files. Never copied into the repo. */
export const DEV_AUDIO =
  process.env.SPEAKERS_DEV_AUDIO ?? resolve(import.meta.dirname, "../../../../../shared/audio/dev");

export function devSpeakers(): string[] {
  return readdirSync(DEV_AUDIO, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/** A speaker's files sorted by name. */
export function devFiles(speaker: string): string[] {
  return readdirSync(join(DEV_AUDIO, speaker))
    .filter((f) => /\.(flac|wav)$/i.test(f))
    .sort()
    .map((f) => join(DEV_AUDIO, speaker, f));
}

export function read(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}
