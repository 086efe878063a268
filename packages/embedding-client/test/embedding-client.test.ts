import { readFileSync } from "node:fs";
import { type Bus, closeBus, connectBus, createLogger } from "@speakers/bus";
import {
  createEmbeddingClient,
  type EmbeddingClient,
  ensureWorker,
  type WorkerHandle,
} from "@speakers/embedding-client";
import { SpeakersError } from "@speakers/events";
import {
  DEV_AUDIO,
  type NatsServer,
  shortClipPerSpeaker,
  startNatsServer,
  useNatsServer,
} from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const GE2E = { id: "resemblyzer/ge2e", revision: "0.1.4", dim: 256 };

async function rejection(promise: Promise<unknown>): Promise<SpeakersError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SpeakersError);
  return err as SpeakersError;
}

function dot(a: readonly number[], b: readonly number[]): number {
  return a.reduce((sum, x, i) => sum + x * (b[i] ?? 0), 0);
}

describe("ensureWorker when the worker cannot start", () => {
  const nats = useNatsServer();

  it("fails with WORKER_UNAVAILABLE and the worker's last log lines", async () => {
    const err = await rejection(
      ensureWorker({ servers: nats.server.url, env: { SPEAKERS_MODEL: "whisper" }, readyTimeoutMs: 60_000 }),
    );
    expect(err.code).toBe("WORKER_UNAVAILABLE");
    expect(err.message).toMatch(/exited \(code 2/);
    expect(err.message).toContain("SPEAKERS_MODEL must be one of");
  });
});

describe("ensureWorker and the client against a real GE2E worker", () => {
  let server: NatsServer;
  let bus: Bus;
  let handle: WorkerHandle;
  let client: EmbeddingClient;
  const clips = shortClipPerSpeaker();

  beforeAll(async () => {
    server = await startNatsServer();
    const logger = createLogger("embedding-client-test", { level: process.env.LOG_LEVEL ?? "silent" });
    bus = await connectBus({ servers: server.url, name: "embedding-client-test", logger });
    handle = await ensureWorker({
      nc: bus.nc,
      model: "ge2e",
      audioRoots: [DEV_AUDIO],
      readyTimeoutMs: 170_000,
    });
    client = createEmbeddingClient(bus);
  });

  afterAll(async () => {
    await handle?.stop();
    if (bus) await closeBus(bus);
    await server?.stop();
  });

  it("started a worker because none answered, and reuses the one that answers", async () => {
    expect(handle.started).toBe(true);
    expect(handle.pid).toBeTypeOf("number");
    expect(handle.ping.metadata.model_key).toBe("resemblyzer/ge2e@0.1.4");

    const again = await ensureWorker({ servers: server.url, model: "ge2e" });
    expect(again.started).toBe(false);
    expect(again.pid).toBeUndefined();
    expect(again.ping.id).toBe(handle.ping.id);
    await again.stop(); // a no-op: it did not start anything
    expect((await client.ping()).id).toBe(handle.ping.id);
  });

  it("ping and models describe the loaded model", async () => {
    const ping = await client.ping();
    expect(ping.name).toBe("embedding");
    expect(ping.metadata).toMatchObject({ model_id: GE2E.id, model_revision: "0.1.4", model_dim: "256" });
    const models = await client.models();
    expect(models.active).toEqual(GE2E);
    expect(models.device).toBe("cpu");
    expect(models.available.map((m) => m.id).sort()).toEqual([GE2E.id, "speechbrain/spkrec-ecapa-voxceleb"]);
  });

  it("extract and extractFile give the same voice", async () => {
    const path = clips[0] ?? "";
    const fromBytes = await client.extract(readFileSync(path), { format: "flac" });
    const fromFile = await client.extractFile(path);
    expect(fromBytes.model).toEqual(GE2E);
    expect(fromBytes.vector).toHaveLength(256);
    expect(fromBytes.durationMs).toBeGreaterThan(2000);
    expect(dot(fromBytes.vector, fromFile.vector)).toBeGreaterThan(0.9999);
  });

  it("extractBatch reports each clip, bad ones included", async () => {
    const [a, b, c] = clips;
    const result = await client.extractBatch([
      { audio: readFileSync(a ?? "") },
      { audio: new TextEncoder().encode("definitely not audio") },
      { path: b ?? "" },
      { audio: readFileSync(c ?? ""), format: "flac" },
    ]);
    expect(result).toMatchObject({ total: 4, processed: 4, errorsCount: 1 });
    expect(result.items.map((item) => item.ok)).toEqual([true, false, true, true]);
    const bad = result.items[1];
    expect(bad?.ok === false && bad.error.code).toBe("AUDIO_UNSUPPORTED_FORMAT");
  });

  it("similarity and centroid", async () => {
    const [v0, v1] = await Promise.all(
      (clips.slice(0, 2) as string[]).map(async (p) => (await client.extractFile(p)).vector),
    );
    expect(await client.similarity(v0 ?? [], v0 ?? [])).toBeCloseTo(1, 6);
    expect(await client.similarity(v0 ?? [], v1 ?? [])).toBeLessThan(0.95);
    const centroid = await client.centroid([
      [3, 0],
      [0, 0.5],
    ]);
    expect(centroid.dim).toBe(2);
    expect(centroid.count).toBe(2);
    expect(centroid.centroid[0]).toBeCloseTo(Math.SQRT1_2, 6);
  });

  it("errors arrive as typed SpeakersErrors with the worker's code and hint", async () => {
    const mismatch = await rejection(client.similarity([1, 0], [1, 0, 0]));
    expect(mismatch.code).toBe("EMBEDDING_DIM_MISMATCH");
    expect(mismatch.status).toBe(400);
    expect(mismatch.hint).toBeTruthy();

    const forbidden = await rejection(client.extractFile("/etc/passwd"));
    expect(forbidden.code).toBe("AUDIO_PATH_FORBIDDEN");

    const corrupt = await rejection(client.extract(new Uint8Array([0x52, 0x49, 0x46, 0x46, 1, 2, 3])));
    expect(corrupt.code).toBe("AUDIO_CORRUPT");
    expect(corrupt.status).toBe(422);

    // Checked against the request schema before it is sent.
    expect((await rejection(client.centroid([]))).code).toBe("INVALID_REQUEST");
  });

  it("a model-bound client uses that model's subjects, and only a worker of that model answers", async () => {
    const ge2e = createEmbeddingClient(bus, { model: "ge2e" });
    expect(ge2e.model).toEqual(GE2E);
    expect((await ge2e.extract(readFileSync(clips[0] ?? ""))).model).toEqual(GE2E);
    expect((await ge2e.ping()).metadata).toMatchObject({ model_key: "resemblyzer/ge2e@0.1.4", role: "live" });

    // No ECAPA worker runs: its subjects have no responders, and PING finds no worker of it.
    const ecapa = createEmbeddingClient(bus, { model: "ecapa", pingTimeoutMs: 500, timeoutMs: 2_000 });
    expect((await rejection(ecapa.ping())).code).toBe("WORKER_UNAVAILABLE");
    expect((await rejection(ecapa.models())).code).toBe("WORKER_UNAVAILABLE");
    expect(
      (await rejection(Promise.resolve().then(() => createEmbeddingClient(bus, { model: "whisper" })))).code,
    ).toBe("INVALID_REQUEST");
  });

  it("ensureWorker refuses a second live worker of another model", async () => {
    const err = await rejection(ensureWorker({ nc: bus.nc, model: "ecapa", readyTimeoutMs: 5_000 }));
    expect(err.code).toBe("MODEL_MISMATCH");
    expect(err.details).toMatchObject({ running: "resemblyzer/ge2e@0.1.4" });
  });

  it("stop() ends the started worker, after which nobody answers", async () => {
    await handle.stop();
    const gone = await rejection(client.ping());
    expect(gone.code).toBe("WORKER_UNAVAILABLE");
    expect(() => process.kill(handle.pid ?? 0, 0)).toThrow();
  });
});
