import { readFile, stat } from "node:fs/promises";
import { type AudioEncoding, encodingForFile, SpeakersError } from "@speakers/events";

/** The format a file name declares (the contract's extension table); undefined lets the worker sniff the bytes. */
export function formatOf(path: string): AudioEncoding | undefined {
  return encodingForFile(path);
}

export function isAudioFile(path: string): boolean {
  return formatOf(path) !== undefined;
}

/** The file's bytes; a missing or unreadable file is a clear typed error, not a stack trace. */
export async function readAudioFile(path: string): Promise<Uint8Array> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error("not a file");
    return new Uint8Array(await readFile(path));
  } catch (cause) {
    throw new SpeakersError("AUDIO_PATH_NOT_FOUND", `Cannot read the audio file ${path}.`, {
      hint: "Check the path; give WAV, FLAC, Ogg, MP3, WebM or M4A files.",
      cause,
    });
  }
}
