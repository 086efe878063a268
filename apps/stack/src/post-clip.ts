import { extname } from "node:path";

export interface PostedClip {
  /** The `audio.captured` event id the capture service answered with. */
  id: string;
  /** performance.now() when the request was sent and when the 202 came back. */
  sentAt: number;
  acceptedAt: number;
}

const MEDIA_TYPES: Record<string, string> = {
  ".flac": "audio/flac",
  ".wav": "audio/wav",
  ".ogg": "audio/ogg",
  ".oga": "audio/ogg",
  ".opus": "audio/ogg",
};

export function mediaTypeOf(file: string): string {
  return MEDIA_TYPES[extname(file).toLowerCase()] ?? "application/octet-stream";
}

/** POSTs one clip to the capture service as a microphone would (`curl --data-binary`); throws on anything but 202. */
export async function postClip(
  captureUrl: string,
  bytes: Uint8Array,
  options: { device: string; contentType: string; room?: string },
): Promise<PostedClip> {
  const url = new URL("/v1/audio", captureUrl);
  url.searchParams.set("device", options.device);
  if (options.room) url.searchParams.set("room", options.room);
  const sentAt = performance.now();
  const res = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": options.contentType },
    body: bytes,
  });
  const text = await res.text();
  const acceptedAt = performance.now();
  if (res.status !== 202) {
    throw new Error(`capture answered ${res.status}: ${text}`);
  }
  const body = JSON.parse(text) as { id?: unknown };
  if (typeof body.id !== "string") throw new Error(`capture's 202 has no event id: ${text}`);
  return { id: body.id, sentAt, acceptedAt };
}
