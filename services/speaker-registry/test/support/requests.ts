import { basename } from "node:path";
import { type EnrollMeta, REGISTRY_ENDPOINTS as ep } from "@speakers/events";
import { readClip as read } from "@speakers/test-support";
import type { Stack } from "./stack.js";

/** Enrolls files as inline samples in one request, as `speakers enroll` does with small files. */
export function enrollFiles(
  stack: Stack,
  name: string,
  files: readonly string[],
  extra: Partial<EnrollMeta> = {},
) {
  const clips = files.map(read);
  const body = new Uint8Array(clips.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of clips) {
    body.set(c, offset);
    offset += c.length;
  }
  const items = files.map((f, i) => ({
    length: clips[i]?.length ?? 0,
    format: "flac" as const,
    label: basename(f),
  }));
  return stack.ask(ep.enroll, { name, items, ...extra }, body);
}

export function identifyFile(stack: Stack, file: string, topK = 5) {
  return stack.ask(ep.identify, { format: "flac", topK }, read(file));
}

export function getSpeaker(stack: Stack, speakerId: string, includeEmbeddings = false) {
  return stack.ask(ep.get, { speakerId, includeEmbeddings });
}

export function listSpeakers(stack: Stack, name?: string) {
  return stack.ask(ep.list, name === undefined ? {} : { name });
}
