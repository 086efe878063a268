import { type ObjectStore, Objm } from "@nats-io/obj";
import { type AudioRef, OBJECT_STORES, SpeakersError } from "@speakers/events";
import type { Bus } from "./connect.js";

export const CLIP_BUCKET = OBJECT_STORES.audioClips.name;

export interface ClipRef {
  kind: "object";
  bucket: string;
  name: string;
  /** `SHA-256=<base64url>`, as the Object Store reports it. */
  digest: string;
  size: number;
}

async function clipStore(bus: Bus, bucket: string): Promise<ObjectStore> {
  return new Objm(bus.js).open(bucket);
}

/** Stores a clip too large to travel inline; the returned ref goes into the event's `audio` field. */
export async function putClip(
  bus: Bus,
  name: string,
  bytes: Uint8Array,
  options: { bucket?: string; contentType?: string } = {},
): Promise<ClipRef> {
  const bucket = options.bucket ?? CLIP_BUCKET;
  const store = await clipStore(bus, bucket);
  const info = await store.putBlob(
    {
      name,
      ...(options.contentType === undefined ? {} : { metadata: { contentType: options.contentType } }),
    },
    bytes,
  );
  return { kind: "object", bucket, name, digest: info.digest, size: info.size };
}

/** The clip's bytes; a missing clip (expired or deleted) is AUDIO_OBJECT_NOT_FOUND. */
export async function getClip(
  bus: Bus,
  name: string,
  options: { bucket?: string } = {},
): Promise<Uint8Array> {
  const bucket = options.bucket ?? CLIP_BUCKET;
  const store = await clipStore(bus, bucket);
  const bytes = await store.getBlob(name);
  if (bytes === null) {
    throw new SpeakersError("AUDIO_OBJECT_NOT_FOUND", `no clip ${name} in ${bucket}`, {
      details: { bucket, name },
    });
  }
  return bytes;
}

/** The audio an `audio.captured` event refers to: its Object Store clip, or else the message's own body. */
export async function audioOf(bus: Bus, audio: AudioRef, body: Uint8Array): Promise<Uint8Array> {
  return audio.kind === "object" ? getClip(bus, audio.name, { bucket: audio.bucket }) : body;
}
