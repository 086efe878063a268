import { readFileSync } from "node:fs";
import { basename, extname } from "node:path";
import { type Bus, call } from "@speakers/bus";
import {
  type EnrollItem,
  EnrollMeta,
  type EnrollReply,
  EnrollReply as EnrollReplyDef,
  SERVICES,
} from "@speakers/events";

const FORMATS: Record<string, EnrollItem["format"]> = { ".flac": "flac", ".wav": "wav", ".ogg": "ogg" };

/** Enrolls (or adds to) a speaker from files sent inline in one `registry.enroll` request, as the CLI does. */
export async function enrollFiles(bus: Bus, name: string, files: readonly string[]): Promise<EnrollReply> {
  const clips = files.map((f) => new Uint8Array(readFileSync(f)));
  const body = new Uint8Array(clips.reduce((n, c) => n + c.length, 0));
  const items: EnrollItem[] = [];
  let offset = 0;
  files.forEach((file, i) => {
    const clip = clips[i] as Uint8Array;
    body.set(clip, offset);
    offset += clip.length;
    const format = FORMATS[extname(file).toLowerCase()];
    items.push({ length: clip.length, ...(format ? { format } : {}), label: basename(file) });
  });
  return call(bus, SERVICES.registry.endpoints.enroll, {
    request: EnrollMeta,
    payload: { name, items },
    reply: EnrollReplyDef,
    body,
    // Embedding a few clips on two cores is seconds; a cold worker can take longer.
    timeoutMs: 120_000,
  });
}
