import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { SpeakersError } from "@speakers/events";
import { isAudioFile } from "../audio-files.js";

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
