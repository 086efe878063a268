import { readFile } from "node:fs/promises";
import { sniffAudio } from "@speakers/audio-capture";
import { closeBus, connectBus, provision, publish } from "@speakers/bus";
import { AudioCaptured, INLINE_AUDIO_LIMIT_BYTES, isSpeakersError } from "@speakers/events";

/**
 * The smallest producer of the event chain: publishes one `audio.captured` event from a file, following
 * ADR 0001 by hand (audio as the body, metadata in Speakers-Meta). Real producers use audio-capture's
 * `publishAudio`, which also moves clips above the inline limit to the Object Store.
 *
 *   NATS_URL=nats://127.0.0.1:4222 node dist/main.js clip.flac [device-id]
 */
const [file, deviceId = "example-mic"] = process.argv.slice(2);
if (!file) {
  console.error("usage: minimal-publisher <audio file> [device-id]");
  process.exit(2);
}
const bytes = await readFile(file);
if (bytes.length > INLINE_AUDIO_LIMIT_BYTES) {
  console.error(`${file} is above the inline limit; use publishAudio from @speakers/audio-capture`);
  process.exit(2);
}
let sniffed: Awaited<ReturnType<typeof sniffAudio>>;
try {
  sniffed = await sniffAudio(bytes); // sample rate, channels and duration from the header
} catch (err) {
  // Every error carries a catalogue code and a hint (docs/errors.md).
  if (!isSpeakersError(err)) throw err;
  console.error(`${err.code}: ${err.message}\n${err.hint}`);
  process.exit(1);
}

const bus = await connectBus({
  servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
  name: "minimal-publisher",
});
await provision(bus);
const event: AudioCaptured = {
  source: { service: "minimal-publisher", deviceId },
  capturedAt: new Date().toISOString(),
  format: sniffed.format,
  ...(sniffed.durationMs === undefined ? {} : { durationMs: sniffed.durationMs }),
  bytes: bytes.length,
  audio: { kind: "inline" },
};
const result = await publish(bus, AudioCaptured, event, {
  source: "/examples/minimal-publisher",
  body: bytes,
  contentType: sniffed.contentType,
});
console.log(JSON.stringify({ id: result.id, subject: AudioCaptured.subjectFor(event), seq: result.seq }));
await closeBus(bus);
