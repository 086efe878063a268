import { readdirSync, realpathSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { SpeakersError } from "@speakers/events";
import { isAudioFile } from "@speakers/registry-client";

export interface SpeakerFiles {
  speaker: string;
  /** Absolute paths, sorted by file name. */
  files: string[];
}

/** One folder per speaker holding FLAC or WAV files; folders without audio are ignored. */
export function readDataset(dir: string): SpeakerFiles[] {
  const root = resolve(dir);
  let entries: string[];
  try {
    if (!statSync(root).isDirectory()) throw new Error("not a directory");
    entries = readdirSync(root);
  } catch (cause) {
    throw new SpeakersError("AUDIO_PATH_NOT_FOUND", `${dir} is not a readable folder.`, {
      hint: "Give a folder with one sub-folder of audio files (FLAC or WAV) per speaker.",
      cause,
    });
  }
  const speakers = entries
    .filter((name) => statSync(join(root, name)).isDirectory())
    .sort()
    .map((speaker) => ({
      speaker,
      files: readdirSync(join(root, speaker))
        .filter((f) => isAudioFile(f) && statSync(join(root, speaker, f)).isFile())
        .sort()
        .map((f) => join(root, speaker, f)),
    }))
    .filter((s) => s.files.length > 0);
  if (speakers.length < 2) {
    throw new SpeakersError(
      "INVALID_REQUEST",
      `${dir} holds ${speakers.length} speaker folder(s) with audio; eval needs at least 2.`,
      {
        hint: "Give a folder with one sub-folder of audio files (FLAC or WAV) per speaker.",
      },
    );
  }
  return speakers;
}

/**
 * The folders the worker may read for this dataset: the real paths of what the user named (the folder and
 * the folders its files really are in), since the worker checks a file's real path against its roots and
 * a speaker folder or file may be a symlink to elsewhere.
 */
export function datasetRoots(dir: string, dataset: readonly SpeakerFiles[]): string[] {
  const roots = new Set([realpathSync(resolve(dir))]);
  for (const s of dataset) for (const file of s.files) roots.add(dirname(realpathSync(file)));
  return [...roots].sort();
}
