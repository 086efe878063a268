import { basename } from "node:path";
import {
  EnrollMeta,
  EnrollReply,
  IdentifyMeta,
  IdentifyReply,
  ListReply,
  ListRequest,
  SERVICES,
  SpeakerDetail,
  SpeakerIdRequest,
} from "@speakers/events";
import { read } from "./dev-audio.js";
import type { Stack } from "./stack.js";

const ep = SERVICES.registry.endpoints;

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
  return stack.call(ep.enroll, EnrollMeta, { name, items, ...extra }, EnrollReply, body);
}

export function identifyFile(stack: Stack, file: string, topK = 5) {
  return stack.call(ep.identify, IdentifyMeta, { format: "flac", topK }, IdentifyReply, read(file));
}

export function getSpeaker(stack: Stack, speakerId: string, includeEmbeddings = false) {
  return stack.call(ep.get, SpeakerIdRequest, { speakerId, includeEmbeddings }, SpeakerDetail);
}

export function listSpeakers(stack: Stack, name?: string) {
  return stack.call(ep.list, ListRequest, name === undefined ? {} : { name }, ListReply);
}
