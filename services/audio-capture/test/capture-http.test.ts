import { readFileSync } from "node:fs";
import { DiscardPolicy, type JsMsg } from "@nats-io/jetstream";
import { type Capture, captureConfigFromEnv, createCapture } from "@speakers/audio-capture";
import { ensureStream, getClip } from "@speakers/bus";
import { AudioCaptured, decodeMeta, HEADERS, STREAMS } from "@speakers/events";
import { devClips, eventually, type TestBus, useTestBus } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toneWav } from "./tone-wav.js";

const INLINE_LIMIT = 200 * 1024;
const MAX_BYTES = 1024 * 1024;

/** The AUDIO message with this ce-id, read back through an ephemeral consumer. */
async function audioMessage(t: TestBus, id: string): Promise<JsMsg> {
  return eventually(async () => {
    const c = await t.bus.js.consumers.get("AUDIO");
    try {
      for await (const m of await c.fetch({ max_messages: 100, expires: 1_000 })) {
        if (m.headers?.get(HEADERS.ceId) === id) return m;
      }
      return undefined;
    } finally {
      await c.delete().catch(() => {});
    }
  });
}

describe("audio capture over HTTP", () => {
  const t = useTestBus("capture-http-test", { local: true });
  let capture: Capture;
  let url: string;
  const clips = devClips();
  const small = clips.find((c) => readFileSync(c.path).length < 100 * 1024);
  const large = clips.find((c) => readFileSync(c.path).length > INLINE_LIMIT);

  beforeAll(async () => {
    const config = captureConfigFromEnv({
      CAPTURE_HTTP_PORT: "0",
      CAPTURE_INLINE_LIMIT_BYTES: String(INLINE_LIMIT),
      CAPTURE_MAX_BYTES: String(MAX_BYTES),
      CAPTURE_RETRY_AFTER_S: "3",
      // No worker runs in this test; /readyz with a worker is in capture-with-worker.test.ts.
      CAPTURE_READY_WORKER: "off",
    });
    capture = createCapture({ bus: t.bus, config });
    await capture.listen();
    url = capture.url ?? "";
  });
  afterAll(async () => {
    await capture?.close();
  });

  const post = (query: string, body: Uint8Array, headers: Record<string, string> = {}) =>
    fetch(`${url}/v1/audio?${query}`, { method: "POST", body, headers });

  it("publishes a real FLAC with the audio as the message body and its format in Speakers-Meta", async () => {
    if (!small) throw new Error("no small clip in the dev set");
    const bytes = readFileSync(small.path);
    const transcript = "Grüß dich — who's there?";
    const res = await post("device=kitchen-satellite&room=kitchen", bytes, {
      "Content-Type": "audio/flac",
      "X-Transcript": encodeURIComponent(transcript),
    });
    expect(res.status).toBe(202);
    const reply = (await res.json()) as { id: string; subject: string; audio: { kind: string } };
    expect(reply.subject).toBe("audio.captured.kitchen-satellite");
    expect(reply.audio.kind).toBe("inline");

    const msg = await audioMessage(t, reply.id);
    expect(msg.subject).toBe("audio.captured.kitchen-satellite");
    expect(Buffer.from(msg.data).equals(bytes)).toBe(true);
    expect(msg.headers?.get(HEADERS.ceType)).toBe(AudioCaptured.typeId);
    expect(msg.headers?.get(HEADERS.ceDataContentType)).toBe("audio/flac");
    expect(msg.headers?.get(HEADERS.natsMsgId)).toBe(reply.id);
    const meta = decodeMeta(AudioCaptured, msg.headers?.get(HEADERS.meta));
    expect(meta.source).toEqual({ service: "audio-capture", deviceId: "kitchen-satellite", room: "kitchen" });
    expect(meta.format).toEqual({ encoding: "flac", sampleRate: 16_000, channels: 1 });
    expect(Math.abs((meta.durationMs ?? 0) - small.durationS * 1000)).toBeLessThanOrEqual(1);
    expect(meta.bytes).toBe(bytes.length);
    expect(meta.transcript).toBe(transcript);
  });

  it("puts a clip above the inline limit in the Object Store and publishes the reference", async () => {
    if (!large) throw new Error("no clip above the test's inline limit");
    const bytes = readFileSync(large.path);
    const res = await post("source=hall-mic", bytes);
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const msg = await audioMessage(t, id);
    expect(msg.data.length).toBe(0);
    const meta = decodeMeta(AudioCaptured, msg.headers?.get(HEADERS.meta));
    if (meta.audio.kind !== "object") throw new Error(`expected an object ref, got ${meta.audio.kind}`);
    expect(meta.audio.bucket).toBe("audio-clips");
    expect(meta.audio.digest).toMatch(/^SHA-256=/);
    expect(Buffer.from(await getClip(t.bus, meta.audio.name)).equals(bytes)).toBe(true);
  });

  it("answers bad input with a 4xx and the catalogue code, and keeps serving", async () => {
    const flac = readFileSync(small?.path ?? "");
    const cases: Array<[string, Uint8Array, Record<string, string>, number, string]> = [
      ["device=a", new Uint8Array(0), { "Content-Type": "audio/wav" }, 400, "AUDIO_EMPTY"],
      ["device=a", Buffer.from("definitely not audio"), {}, 422, "AUDIO_UNSUPPORTED_FORMAT"],
      ["device=a", flac, { "Content-Type": "audio/amr" }, 422, "AUDIO_UNSUPPORTED_FORMAT"],
      ["device=a", flac, { "Content-Type": "audio/mpeg" }, 422, "AUDIO_CORRUPT"],
      ["device=a", flac, { "Content-Type": "audio/wav" }, 422, "AUDIO_CORRUPT"],
      ["device=a", toneWav(1).subarray(0, 9_000), { "Content-Type": "audio/wav" }, 422, "AUDIO_TRUNCATED"],
      ["room=kitchen", flac, {}, 400, "INVALID_REQUEST"],
      ["device=a", Buffer.alloc(MAX_BYTES + 1), { "Content-Type": "audio/wav" }, 413, "AUDIO_TOO_LONG"],
    ];
    for (const [query, body, headers, status, code] of cases) {
      const res = await post(query, body, headers);
      const payload = (await res.json()) as { code: string; message: string; hint: string };
      expect({ query, status: res.status, code: payload.code }).toEqual({ query, status, code });
      expect(payload.message.length).toBeGreaterThan(0);
      expect(payload.hint.length).toBeGreaterThan(0);
    }
    const info = await t.bus.jsm.streams.info("AUDIO", { subjects_filter: "audio.captured.a" });
    expect(info.state.subjects?.["audio.captured.a"] ?? 0).toBe(0);
    expect((await post("device=a", flac)).status).toBe(202);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it("answers 503 with Retry-After while the bus is down, and takes clips again once it is back", async () => {
    const flac = readFileSync(small?.path ?? "");
    // Kill the server behind the harness's back, keep its store, then bring it back on the same port.
    process.kill(t.server.pid ?? 0, "SIGTERM");
    await eventually(() => (capture.health.up ? undefined : true));
    const res = await post("device=offline", flac);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("3");
    expect(((await res.json()) as { code: string }).code).toBe("BUS_UNAVAILABLE");
    expect((await fetch(`${url}/readyz`)).status).toBe(503);

    await t.server.restart();
    await eventually(() => (capture.health.up ? true : undefined));
    const again = await post("device=offline", flac);
    expect(again.status).toBe(202);
    const { id } = (await again.json()) as { id: string };
    expect(Buffer.from((await audioMessage(t, id)).data).equals(flac)).toBe(true);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  });

  it("answers 503 BACKPRESSURE when the stream is full and refuses new messages", async () => {
    const flac = readFileSync(small?.path ?? "");
    await t.bus.jsm.streams.purge("AUDIO");
    await t.bus.jsm.streams.update("AUDIO", { discard: DiscardPolicy.New, max_bytes: 64 * 1024 });
    try {
      const first = await post("device=full", flac);
      expect(first.status).toBe(202);
      const res = await post("device=full", flac);
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("3");
      expect(((await res.json()) as { code: string }).code).toBe("BACKPRESSURE");
    } finally {
      await ensureStream(t.bus, STREAMS.AUDIO);
    }
  });
});
