import { publish } from "@speakers/bus";
import { AudioCaptured, CONSUMERS } from "@speakers/events";
import { consumerIdle, readClip as read } from "@speakers/test-support";
import type { Stack } from "./stack.js";
import { waitFor } from "./wait.js";

export interface StoredMessage {
  seq: number;
  subject: string;
  id: string;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test events are read loosely and asserted field by field
  json: any;
}

/** Everything a stream holds now, read front to back with an ordered consumer. */
export async function readStream(stack: Stack, stream: string): Promise<StoredMessage[]> {
  const out: StoredMessage[] = [];
  const c = await stack.bus.js.consumers.get(stream);
  const pending = (await c.info(true)).num_pending;
  if (pending === 0) return out;
  const decoder = new TextDecoder();
  while (out.length < pending) {
    for await (const m of await c.fetch({ max_messages: pending - out.length, expires: 5_000 })) {
      const text = stream === "AUDIO" ? "" : decoder.decode(m.data);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      out.push({ seq: m.seq, subject: m.subject, id: m.headers?.get("ce-id") ?? "", text, json });
      if (m.info.pending === 0) return out;
    }
  }
  return out;
}

/** Publishes audio bytes as captured from `source` (as capture does); returns its event id. */
export async function publishAudio(
  stack: Stack,
  bytes: Uint8Array,
  source: { service: string; deviceId: string; room?: string },
): Promise<string> {
  const heard = await publish(
    stack.bus,
    AudioCaptured,
    {
      source,
      capturedAt: new Date().toISOString(),
      format: { encoding: "flac", sampleRate: 16000, channels: 1 },
      bytes: bytes.length,
      audio: { kind: "inline" },
    },
    { source: "/test", body: bytes, contentType: "audio/flac" },
  );
  return heard.id;
}

/** Publishes a recording as captured audio from a device of the same name as its room; returns its event id. */
export async function publishClip(stack: Stack, file: string, deviceId: string): Promise<string> {
  return publishAudio(stack, read(file), { service: "test", deviceId, room: deviceId });
}

/** Waits until the worker and the registry have handled everything published so far. */
export async function drained(stack: Stack): Promise<void> {
  const { jsm } = stack.bus;
  await waitFor(
    async () =>
      (await consumerIdle(jsm, "AUDIO", CONSUMERS.embeddingWorker.durable)) &&
      (await consumerIdle(jsm, "EMBEDDINGS", CONSUMERS.speakerRegistry.durable)),
    120_000,
    "the worker and the registry to catch up",
  );
}
