/**
 * Replay and retraining on a live GE2E system (real nats-server, real workers, the registry): 3 speakers
 * enrolled and 10 clips captured and identified live. ECAPA (same-shape seeded weights: its accuracy means
 * nothing, so only the mechanics are asserted) runs beside it as a replay worker; the replay is interrupted
 * and resumed through `speakers replay`, then `speakers model use` switches the live model.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  type Bus,
  call,
  closeBus,
  connectBus,
  createLogger,
  provision,
  publish,
  putClip,
} from "@speakers/bus";
import {
  createEmbeddingClient,
  defaultWorkerDir,
  ensureWorker,
  type WorkerHandle,
} from "@speakers/embedding-client";
import {
  AudioCaptured,
  CONSUMERS,
  EmbeddingComputed,
  EnrollMeta,
  EnrollReply,
  MODELS,
  type ModelRef,
  modelKey,
  resolveModel,
  SERVICES,
  STREAMS,
} from "@speakers/events";
import { createReplay } from "@speakers/replay";
import { createRegistry, type Registry, readVoiceprints, switchLiveModel } from "@speakers/speaker-registry";
import { DEV_AUDIO, eventually, type NatsServer, startNatsServer } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmbeddedStack, runCli } from "../src/index.js";

const SMALL_FILES =
  process.env.SPEAKERS_ECAPA_SMALL_FILES ??
  resolve(import.meta.dirname, "../../../../shared/models/spkrec-ecapa-voxceleb");
const SPEAKERS = readdirSync(DEV_AUDIO, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort()
  .slice(0, 3);
const files = (speaker: string) =>
  readdirSync(join(DEV_AUDIO, speaker))
    .filter((f) => f.endsWith(".flac"))
    .sort()
    .map((f) => join(DEV_AUDIO, speaker, f));
const CAPTURED = 10;

let tmp: string;
let server: NatsServer;
let bus: Bus;
let live: WorkerHandle;
let registry: Registry;
let ecapaEnv: Record<string, string>;
/** The seeded weights are not the pinned ones, so the worker publishes them under their own local key. */
let ecapaModel: ModelRef;
let ecapaKey: string;
const enrolled = new Map<string, string>(); // speaker id -> name

/** Same-shape ECAPA: the real small files plus seeded weights, written by the worker's own generator. */
function writeSeededEcapa(folder: string): void {
  const script =
    "import sys; from pathlib import Path; from speaker_worker.models.seeded_ecapa import write_seeded_ecapa; " +
    "write_seeded_ecapa(Path(sys.argv[1]), Path(sys.argv[2]), seed=0)";
  const dir = defaultWorkerDir();
  execFileSync(join(dir, ".venv/bin/python"), ["-c", script, folder, SMALL_FILES], {
    cwd: dir,
    stdio: "pipe",
  });
}

/** The worker's key for unverified ECAPA weights: sha256 over both weight files' hex digests (ADR 0005). */
function localEcapaKey(folder: string): string {
  const digests = ["embedding_model.ckpt", "classifier.ckpt"].map((f) =>
    createHash("sha256")
      .update(readFileSync(join(folder, f)))
      .digest("hex"),
  );
  const combined = createHash("sha256").update(digests.join("")).digest("hex");
  return `${MODELS.ecapa.id}@local-${combined.slice(0, 12)}`;
}

async function count(stream: string, subject: string): Promise<number> {
  const info = await bus.jsm.streams.info(stream, { subjects_filter: subject });
  return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
}

async function speakers(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const stack: EmbeddedStack = { url: server.url, bus, embedded: false, stop: async () => {} };
  const code = await runCli(argv, {
    output: { out: (l) => out.push(l), err: (l) => err.push(l) },
    openStack: async () => stack,
    env: { ...process.env, ...ecapaEnv },
  });
  process.exitCode = undefined;
  return { code, out: out.join("\n"), err: err.join("\n") };
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "speakers-replay-"));
  writeSeededEcapa(join(tmp, "ecapa"));
  ecapaKey = localEcapaKey(join(tmp, "ecapa"));
  ecapaModel = resolveModel(ecapaKey);
  ecapaEnv = { MODEL_SOURCE: join(tmp, "ecapa"), MODEL_CACHE_DIR: join(tmp, "cache"), LOG_LEVEL: "WARNING" };
  server = await startNatsServer({ configText: "max_payload: 8MB\n" });
  const logger = createLogger("replay-test", { level: process.env.LOG_LEVEL ?? "silent" });
  bus = await connectBus({ servers: server.url, name: "replay-test", logger });
  await provision(bus);
  live = await ensureWorker({ nc: bus.nc, model: "ge2e", readyTimeoutMs: 170_000 });
  registry = createRegistry({ bus, logger });
  await registry.start();

  for (const speaker of SPEAKERS) {
    const clips = files(speaker)
      .slice(0, 3)
      .map((f) => new Uint8Array(readFileSync(f)));
    const reply = await call(bus, SERVICES.registry.endpoints.enroll, {
      request: EnrollMeta,
      payload: {
        name: `speaker-${speaker}`,
        items: clips.map((c) => ({ length: c.byteLength, format: "flac" as const })),
      },
      body: Buffer.concat(clips),
      reply: EnrollReply,
      timeoutMs: 120_000,
    });
    enrolled.set(reply.speaker?.id ?? "", reply.speaker?.name ?? "");
  }
  // Captured live: three later files of each speaker plus one more, the last through the Object Store.
  const captured = SPEAKERS.flatMap((s) => files(s).slice(3, 6)).concat(files(SPEAKERS[0] ?? "").slice(6, 7));
  expect(captured).toHaveLength(CAPTURED);
  for (const [i, path] of captured.entries()) {
    const bytes = new Uint8Array(readFileSync(path));
    const inStore = i === captured.length - 1;
    const ref = inStore
      ? await putClip(bus, `capture/test-${i}.flac`, bytes, { contentType: "audio/flac" })
      : undefined;
    await publish(
      bus,
      AudioCaptured,
      {
        source: { service: "replay-test", deviceId: "kitchen" },
        capturedAt: new Date().toISOString(),
        format: { encoding: "flac", sampleRate: 16000, channels: 1 },
        bytes: bytes.byteLength,
        audio: ref ? { kind: "object", bucket: ref.bucket, name: ref.name } : { kind: "inline" },
      },
      { source: "/test/replay", contentType: "audio/flac", ...(ref ? {} : { body: bytes }) },
    );
  }
  await eventually(
    async () => ((await count(STREAMS.SPEAKERS.name, "speaker.identified")) === CAPTURED ? true : undefined),
    { what: "10 live identifications", intervalMs: 200 },
  );
}, 400_000);

afterAll(async () => {
  await registry?.stop();
  await live?.stop();
  if (bus) await closeBus(bus);
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("replay with another model, and switching the live model", () => {
  const ecapaSubject = () => EmbeddingComputed.subject(ecapaModel);

  it("refuses to make a model live that has no voiceprints", async () => {
    const r = await speakers("model", "use", ecapaKey);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/NO_VOICEPRINT/);
    expect(r.err).toMatch(/speakers replay --model/);
    expect(modelKey(registry.liveModel())).toBe(modelKey(MODELS.ge2e));
  });

  it("has the registry refuse a model this system does not know, with its typed error", async () => {
    const r = await speakers("model", "use", "no-such-model");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/INVALID_REQUEST/);
    expect(r.err).toMatch(/"no-such-model" is not a model this system knows/);
    expect(modelKey(registry.liveModel())).toBe(modelKey(MODELS.ge2e));
  });

  it("re-embeds the history into ECAPA's space, resumably and exactly once, leaving the live model alone", async () => {
    const ge2eBefore = await readVoiceprints(bus, MODELS.ge2e);
    expect(ge2eBefore).toHaveLength(3);
    const ecapa = await ensureWorker({
      nc: bus.nc,
      model: ecapaKey,
      role: "replay",
      env: ecapaEnv,
      readyTimeoutMs: 170_000,
    });
    try {
      expect(ecapa.started).toBe(true);
      expect(ecapa.ping.metadata).toMatchObject({ model_key: modelKey(ecapaModel), role: "replay" });
      // Generic requests still reach only the live GE2E worker.
      for (let i = 0; i < 4; i++) {
        expect((await createEmbeddingClient(bus).models()).active).toEqual(MODELS.ge2e);
      }

      const first = await createReplay({ bus, model: ecapaModel, batchSize: 3 }).run({ stopAfter: 4 });
      expect(first).toMatchObject({ interrupted: true, embedded: 4, failed: 0 });
      expect(first.voiceprints).toBeUndefined();
      expect(await count(STREAMS.EMBEDDINGS.name, ecapaSubject())).toBe(4);

      const resumed = await speakers("replay", "--model", ecapaKey, "--json");
      expect(resumed.err).toBe("");
      expect(resumed.code).toBe(0);
      const run = JSON.parse(resumed.out);
      expect(run).toMatchObject({
        interrupted: false,
        embedded: CAPTURED - 4,
        failed: 0,
        consumer: expect.stringMatching(/^replay-speechbrain_/),
      });

      // Every captured clip embedded exactly once, in ECAPA's 192 dimensions, under its own subject.
      expect(await count(STREAMS.EMBEDDINGS.name, ecapaSubject())).toBe(CAPTURED);
      const ids = new Set<string>();
      const consumer = await bus.js.consumers.get(STREAMS.EMBEDDINGS.name, {
        filter_subjects: [ecapaSubject()],
      });
      for await (const m of await consumer.fetch({ max_messages: CAPTURED, expires: 5_000 })) {
        const e = m.json<EmbeddingComputed>();
        expect(e.vector).toHaveLength(192);
        ids.add(e.sourceEventId);
      }
      expect(ids.size).toBe(CAPTURED);

      // ECAPA voiceprints for every speaker, built from the stored enrollment clips.
      expect(run.voiceprints.speakers).toHaveLength(3);
      for (const s of run.voiceprints.speakers)
        expect(s).toMatchObject({ embedded: 3, failed: 0, voiceprint: true });
      const ecapaPrints = await readVoiceprints(bus, ecapaModel);
      expect(ecapaPrints.map((v) => v.speakerId).sort()).toEqual([...enrolled.keys()].sort());
      for (const v of ecapaPrints) expect(v.vector).toHaveLength(192);

      // The live model's voiceprints and decisions are untouched.
      expect(await readVoiceprints(bus, MODELS.ge2e)).toEqual(ge2eBefore);
      expect(await count(STREAMS.SPEAKERS.name, "speaker.identified")).toBe(CAPTURED);
      expect(modelKey(registry.liveModel())).toBe(modelKey(MODELS.ge2e));

      // One row per enrolled speaker (plus one for live unknowns, if any), every replayed clip compared.
      const rows = run.report.rows as {
        speakerId: string | null;
        name: string;
        events: number;
        agreement: number | null;
      }[];
      expect(
        rows
          .filter((r) => r.speakerId !== null)
          .map((r) => r.speakerId)
          .sort(),
      ).toEqual([...enrolled.keys()].sort());
      for (const r of rows.filter((r) => r.speakerId !== null))
        expect(r.name).toBe(enrolled.get(r.speakerId ?? ""));
      expect(rows.reduce((n, r) => n + r.events, 0)).toBe(CAPTURED);
      expect(run.report).toMatchObject({
        replayed: CAPTURED,
        compared: CAPTURED,
        liveModels: [modelKey(MODELS.ge2e)],
      });
      expect(run.report.threshold).toBe(0.25);

      // Run again (as people read it): nothing left to embed, nothing published twice, the same report.
      const again = await speakers("replay", "--model", ecapaKey);
      expect(again.code).toBe(0);
      expect(again.out).toMatch(/: 0 embedded, 0 failed, 0 skipped this run\./);
      expect(again.out).toMatch(/^overall\s+10\s/m);
      for (const name of enrolled.values()) expect(again.out).toMatch(new RegExp(`^${name}\\s+\\d+\\s`, "m"));
      console.log(again.out);
      expect(await count(STREAMS.EMBEDDINGS.name, ecapaSubject())).toBe(CAPTURED);

      // Now that ECAPA has voiceprints and a worker, it can go live; the running registry follows.
      const use = await speakers("model", "use", ecapaKey);
      expect(use.code).toBe(0);
      expect(use.out).toMatch(
        /Live model: speechbrain\/spkrec-ecapa-voxceleb@.* \(was resemblyzer\/ge2e@0\.1\.4\), 3 voiceprint/,
      );
      expect(use.out).toMatch(/SPEAKERS_MODEL=ecapa MODEL_SOURCE=.* python -m speaker_worker/);
      await eventually(
        async () => (modelKey(registry.liveModel()) === modelKey(ecapaModel) ? true : undefined),
        { what: "the registry to follow", intervalMs: 200 },
      );
      // ... and says so in its service STATS (health checks and operators read it there).
      const stats = (await bus.nc.request(`$SRV.STATS.${SERVICES.registry.name}`, undefined)).json<{
        endpoints: { data?: { liveModel?: string } }[];
      }>();
      expect(stats.endpoints[0]?.data?.liveModel).toBe(modelKey(ecapaModel));
      const info = await eventually(
        async () => {
          const i = await bus.jsm.consumers.info(STREAMS.EMBEDDINGS.name, CONSUMERS.speakerRegistry.durable);
          return i.config.filter_subjects?.[0] === ecapaSubject() ||
            i.config.filter_subject === ecapaSubject()
            ? i
            : undefined;
        },
        { what: "the consumer filter to move", intervalMs: 200 },
      );
      expect(info.config.filter_subjects ?? [info.config.filter_subject]).toEqual([ecapaSubject()]);
      // The replayed ECAPA embeddings (past audio) reach it now, and are not identified as live events.
      // Pending counts, not consumerIdle: the consumer passed some of these messages while its filter was GE2E's,
      // so it never delivers them and the last one stays above its delivered sequence.
      await eventually(
        async () => {
          const i = await bus.jsm.consumers.info(STREAMS.EMBEDDINGS.name, CONSUMERS.speakerRegistry.durable);
          return i.num_pending === 0 && i.num_ack_pending === 0 ? true : undefined;
        },
        { what: "the registry to drain its consumer", intervalMs: 200 },
      );
      expect(await count(STREAMS.SPEAKERS.name, "speaker.identified")).toBe(CAPTURED);
    } finally {
      await ecapa.stop();
    }
    // Without a worker of it, a model cannot go live; GE2E (worker running) can.
    expect((await speakers("model", "use", "ge2e")).code).toBe(0);
    await eventually(
      async () => (modelKey(registry.liveModel()) === modelKey(MODELS.ge2e) ? true : undefined),
      { what: "the registry to switch back", intervalMs: 200 },
    );
    const refused = await speakers("model", "use", ecapaKey);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/WORKER_UNAVAILABLE/);
    await expect(switchLiveModel({ bus }, ecapaModel)).rejects.toMatchObject({
      code: "WORKER_UNAVAILABLE",
    });
  }, 400_000);
});
