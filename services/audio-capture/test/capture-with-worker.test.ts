import { type Capture, captureConfigFromEnv, createCapture } from "@speakers/audio-capture";
import { createEmbeddingClient, ensureWorker, type WorkerHandle } from "@speakers/embedding-client";
import { type EmbeddingComputed, STREAMS } from "@speakers/events";
import { devClips, eventually, useTestBus } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeWithFfmpeg } from "./encode.js";

interface ReadyBody {
  status: string;
  bus: string;
  worker?: string;
  model?: string;
  reason?: string;
}

/**
 * HTTP capture in front of the real Python worker (GE2E): a browser's WebM goes all the way to an embedding, and
 * /readyz tells the truth (issue 9 item 4): not ready once the worker is killed, nor once the bus is down.
 */
describe("capture with a real worker", () => {
  const t = useTestBus("capture-with-worker-test", { local: true });
  let worker: WorkerHandle;
  let capture: Capture;
  const readyz = async (): Promise<{ status: number; body: ReadyBody }> => {
    const res = await fetch(`${capture.url}/readyz`);
    return { status: res.status, body: (await res.json()) as ReadyBody };
  };

  beforeAll(async () => {
    worker = await ensureWorker({
      nc: t.bus.nc,
      servers: t.server.url,
      model: "ge2e",
      readyTimeoutMs: 240_000,
    });
    const config = captureConfigFromEnv({ CAPTURE_HTTP_PORT: "0", CAPTURE_READY_CACHE_MS: "0" });
    capture = createCapture({ bus: t.bus, config });
    await capture.listen();
  }, 300_000);
  afterAll(async () => {
    await capture?.close();
    await worker?.stop();
  });

  it("is ready while the bus is up and the live worker answers", async () => {
    const { status, body } = await readyz();
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: "ok", bus: "up", worker: "up", model: "resemblyzer/ge2e@0.1.4" });
  });

  it("turns a WebM/Opus upload (what a browser records) into an embedding", async () => {
    const clip = devClips().find((c) => c.durationS >= 6);
    const webm = encodeWithFfmpeg(clip?.path ?? "", "webm", 5);
    const res = await fetch(`${capture.url}/v1/audio?device=browser&room=study`, {
      method: "POST",
      body: webm,
      headers: { "Content-Type": "audio/webm;codecs=opus" },
    });
    expect(res.status).toBe(202);
    const { id, format } = (await res.json()) as { id: string; format: { encoding: string } };
    expect(format.encoding).toBe("webm");

    const computed = await eventually(async () => {
      const consumer = await t.bus.js.consumers.get(STREAMS.EMBEDDINGS.name);
      try {
        for await (const m of await consumer.fetch({ max_messages: 100, expires: 1_000 })) {
          const event = m.json<EmbeddingComputed>();
          if (event.sourceEventId === id) return event;
        }
        return undefined;
      } finally {
        await consumer.delete().catch(() => {});
      }
    }, 60_000);
    expect(computed.source).toMatchObject({ deviceId: "browser", room: "study" });
    expect(computed.vector).toHaveLength(256);
    expect(Math.abs(computed.durationMs - 5000)).toBeLessThan(200);
  }, 90_000);

  it("embeds MP3 and M4A/AAC through the embedding service, which enrollment uses", async () => {
    const clip = devClips().find((c) => c.durationS >= 6)?.path ?? "";
    const client = createEmbeddingClient(t.bus);
    const m4a = await client.extract(encodeWithFfmpeg(clip, "mp4", 4), { format: "mp4" });
    expect(m4a.vector).toHaveLength(256);
    const batch = await client.extractBatch([
      { audio: encodeWithFfmpeg(clip, "mp3", 4) },
      { audio: encodeWithFfmpeg(clip, "webm", 0.5), format: "webm" },
    ]);
    expect(batch.items.map((item) => (item.ok ? item.embedding.vector.length : item.error.code))).toEqual([
      256,
      "AUDIO_TOO_SHORT",
    ]);
  }, 90_000);

  it("is not ready, with a reason, once the worker is killed", async () => {
    process.kill(worker.pid ?? 0, "SIGKILL");
    const { body } = await eventually(async () => {
      const state = await readyz();
      return state.status === 503 ? state : undefined;
    }, 30_000);
    expect(body).toMatchObject({ status: "unavailable", bus: "up", worker: "down" });
    expect(body.reason).toMatch(/worker/);
  });

  it("is not ready while the bus is down", async () => {
    process.kill(t.server.pid ?? 0, "SIGTERM");
    await eventually(() => (capture.health.up ? undefined : true));
    const { status, body } = await readyz();
    expect(status).toBe(503);
    expect(body).toMatchObject({ status: "unavailable", bus: "down" });
    expect(body.reason).toMatch(/NATS/);
  });
});
