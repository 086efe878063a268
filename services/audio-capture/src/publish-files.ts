import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { basename } from "node:path";
import type { Bus } from "@speakers/bus";
import { type ErrorPayloadShape, SpeakersError, toErrorPayload } from "@speakers/events";
import { fileEventId, mediaTypeForFile } from "./folder-watcher.js";
import { type CaptureLimits, DEFAULT_LIMITS, type Published, publishAudio } from "./publish-audio.js";

export interface PublishFilesOptions {
  /** Device id the clips are published under (default `cli`). */
  deviceId?: string;
  room?: string;
  /** One transcript for every file (rarely useful with more than one). */
  transcript?: string;
  limits?: CaptureLimits;
  /** Called after each file, e.g. to draw a progress bar. */
  onResult?: (result: PublishFileResult, index: number, total: number) => void;
}

export type PublishFileResult =
  | {
      file: string;
      ok: true;
      id: string;
      subject: string;
      seq: number;
      duplicate: boolean;
      published: Published;
    }
  | { file: string; ok: false; error: ErrorPayloadShape };

/**
 * `speakers publish <files…>`: publishes each file as one `audio.captured` event, one after another. A bad file
 * is reported and the rest still go out; the event id comes from the content hash, so re-running within
 * JetStream's duplicate window stores nothing twice.
 */
export async function publishFiles(
  bus: Bus,
  files: readonly string[],
  options: PublishFilesOptions = {},
): Promise<PublishFileResult[]> {
  const results: PublishFileResult[] = [];
  for (const [index, file] of files.entries()) {
    let result: PublishFileResult;
    try {
      const bytes = await readAudioFile(file);
      const hash = createHash("sha256").update(bytes).digest("hex");
      const published = await publishAudio(
        bus,
        {
          bytes,
          contentType: mediaTypeForFile(file),
          deviceId: options.deviceId ?? "cli",
          ...(options.room === undefined ? {} : { room: options.room }),
          ...(options.transcript === undefined ? {} : { transcript: options.transcript }),
          capturedAt: (await stat(file)).mtime,
          id: fileEventId(hash),
          tags: { file: basename(file) },
        },
        { limits: options.limits ?? DEFAULT_LIMITS },
      );
      result = {
        file,
        ok: true,
        id: published.id,
        subject: published.subject,
        seq: published.seq,
        duplicate: published.duplicate,
        published,
      };
    } catch (err) {
      result = { file, ok: false, error: toErrorPayload(err) };
    }
    results.push(result);
    options.onResult?.(result, index, files.length);
  }
  return results;
}

async function readAudioFile(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SpeakersError(
      code === "ENOENT" ? "AUDIO_PATH_NOT_FOUND" : "INVALID_REQUEST",
      `Cannot read ${file}: ${(err as Error).message}`,
      { cause: err, details: { file }, hint: "Check the path and that this user may read the file." },
    );
  }
}
