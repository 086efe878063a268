import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Capture, captureConfigFromEnv, createCapture } from "@speakers/audio-capture";
import { type Bus, call, closeBus, connectBus, createLogger, provision } from "@speakers/bus";
import { EnrollMeta, EnrollReply, HEADERS, SERVICES } from "@speakers/events";
import { type PresenceRecord, presence, type WhoIsHomeReply } from "@speakers/plugin-presence";
import { type RunningPlugins, runPlugins } from "@speakers/plugin-sdk";
import { type UnknownClip, unknownVoices } from "@speakers/plugin-unknown-voices";
import { createRegistry, type Registry } from "@speakers/speaker-registry";
import {
  DEV_AUDIO,
  eventually,
  type NatsServer,
  startNatsServer,
  startWorkerProcess,
  type WorkerProcess,
} from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const speakers = readdirSync(DEV_AUDIO, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();
const files = (speaker: string) =>
  readdirSync(join(DEV_AUDIO, speaker))
    .filter((f) => f.endsWith(".flac"))
    .sort()
    .map((f) => join(DEV_AUDIO, speaker, f));

/**
 * The whole chain on real speech: HTTP capture -> the real Python worker (GE2E) -> the registry -> plugins.
 * A known voice shows up in presence; an unknown one is kept by unknown-voices, named, and enrolled from it.
 */
describe("capture -> worker -> registry -> plugins", () => {
  let server: NatsServer;
  let bus: Bus;
  let worker: WorkerProcess;
  let registry: Registry;
  let capture: Capture;
  let plugins: RunningPlugins;
  const [alice = "", bob = ""] = speakers;

  beforeAll(async () => {
    server = await startNatsServer({ configText: "max_payload: 8MB\n" });
    const logger = createLogger("chain-test", { level: process.env.LOG_LEVEL ?? "silent" });
    bus = await connectBus({ servers: server.url, name: "chain-test", logger });
    await provision(bus);
    worker = await startWorkerProcess(server.url);
    registry = createRegistry({ bus, logger });
    await registry.start();
    capture = createCapture({ bus, config: captureConfigFromEnv({ CAPTURE_HTTP_PORT: "0" }), logger });
    await capture.listen();
    plugins = await runPlugins(bus, [presence, unknownVoices], { logger, handlerTimeoutMs: 30_000 });
    expect(plugins.failed).toEqual([]);
  });
  afterAll(async () => {
    await plugins?.stop();
    await capture?.close();
    await registry?.stop();
    await worker?.stop();
    await closeBus(bus).catch(() => {});
    await server?.stop();
  });

  const post = async (file: string, device: string, room: string) => {
    const res = await fetch(`${capture.url}/v1/audio?device=${device}&room=${room}`, {
      method: "POST",
      body: readFileSync(file),
      headers: { "Content-Type": "audio/flac" },
    });
    expect(res.status).toBe(202);
    return ((await res.json()) as { id: string }).id;
  };
  const ask = async <T>(subject: string, body: unknown = {}) => {
    const reply = await bus.nc.request(subject, JSON.stringify(body), { timeout: 120_000 });
    return { status: reply.headers?.get(HEADERS.serviceErrorCode) ?? "200", data: reply.json<T>() };
  };

  it("shows a known voice in presence, and lets an unknown one be named and enrolled", async () => {
    const enrollA = files(alice)
      .slice(0, 3)
      .map((f) => new Uint8Array(readFileSync(f)));
    const enrolled = await call(bus, SERVICES.registry.endpoints.enroll, {
      request: EnrollMeta,
      payload: { name: "Alice", items: enrollA.map((b) => ({ length: b.length, format: "flac" as const })) },
      body: Buffer.concat(enrollA),
      reply: EnrollReply,
      timeoutMs: 120_000,
    });
    expect(enrolled.result.outcome).toBe("enrolled");

    await post(files(alice)[4] ?? "", "kitchen-mic", "kitchen");
    const home = await eventually(async () => {
      const r = await ask<WhoIsHomeReply>("speakers.presence.who-is-home");
      return r.data.home.length > 0 ? r.data.home : undefined;
    }, 90_000);
    expect(home.map((r) => [r.name, r.room])).toEqual([["Alice", "kitchen"]]);

    const stranger = await post(files(bob)[0] ?? "", "hall-mic", "hall");
    const clip = await eventually(async () => {
      const r = await ask<{ clips: UnknownClip[] }>("speakers.unknown-voices.list");
      return r.data.clips.find((c) => c.sourceEventId === stranger);
    }, 90_000);
    expect(clip.room).toBe("hall");

    const named = await ask<{ enrolled: boolean }>("speakers.unknown-voices.name", {
      clipId: clip.clipId,
      name: "Bob",
    });
    expect(named).toMatchObject({ status: "200", data: { enrolled: true } });
    const left = await ask<{ clips: UnknownClip[] }>("speakers.unknown-voices.list");
    expect(left.data.clips.some((c) => c.clipId === clip.clipId)).toBe(false);

    // Bob, enrolled from the clip he was unknown in, is recognised the next time he speaks.
    await post(files(bob)[2] ?? "", "hall-mic", "hall");
    const bobSeen = await eventually(async () => {
      const r = await ask<PresenceRecord>("speakers.presence.last-heard", { name: "Bob" });
      return r.status === "200" ? r.data : undefined;
    }, 90_000);
    expect(bobSeen.room).toBe("hall");
  });
});
