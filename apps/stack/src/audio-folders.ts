import { readdirSync } from "node:fs";
import { join } from "node:path";
import { devAudioDir } from "@speakers/runtime";

export interface SpeakerFolder {
  /** The folder's name: the ground-truth speaker. */
  speaker: string;
  /** Audio files, sorted by name so "the first N" is the same on every run. */
  files: string[];
}

const AUDIO = /\.(flac|wav|ogg|oga|opus)$/i;

/** The dev set next to the repo (`../shared/audio/dev`), or SPEAKERS_DEV_AUDIO (resolved by the runtime, once). */
export function defaultAudioDir(env: NodeJS.ProcessEnv = process.env): string {
  return devAudioDir(env);
}

/** One entry per sub-folder that holds audio; loose files (a manifest) are ignored. */
export function speakerFolders(dir: string): SpeakerFolder[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => ({
      speaker: d.name,
      files: readdirSync(join(dir, d.name))
        .filter((f) => AUDIO.test(f))
        .sort()
        .map((f) => join(dir, d.name, f)),
    }))
    .filter((s) => s.files.length > 0)
    .sort((a, b) => a.speaker.localeCompare(b.speaker));
}
