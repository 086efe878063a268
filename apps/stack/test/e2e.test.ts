/**
 * The product as `pnpm start` composes it, on real speech: HTTP capture -> the real GE2E worker -> registry ->
 * plugins (presence, unknown-voices, home-assistant against a real Mosquitto), each plugin's effect checked
 * where a user would see it: the presence endpoint, the unknown-voices list, and MQTT messages on the broker.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@speakers/bus";
import { HEADERS } from "@speakers/events";
import type { WhoIsHomeReply } from "@speakers/plugin-presence";
import type { UnknownClip } from "@speakers/plugin-unknown-voices";
import { registryClient } from "@speakers/registry-client";
import {
  DEV_AUDIO,
  eventually,
  type Mosquitto,
  type NatsServer,
  startMosquitto,
  startNatsServer,
} from "@speakers/test-support";
import { connectAsync, type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// The home-assistant plugin's broker harness (a real Mosquitto on a free port); reused rather than copied.
import {
  createStack,
  defaultPlugins,
  postClip,
  type Stack,
  speakerFolders,
  type Trace,
  traceChain,
} from "../src/index.js";
import { buildStack } from "./support/stack-under-test.js";

const [alice, bob, stranger] = speakerFolders(DEV_AUDIO);
if (!alice || !bob || !stranger) throw new Error("the dev set needs at least three speakers");

describe("capture -> worker -> registry -> plugins, as one stack", () => {
  let broker: Mosquitto;
  let nats: NatsServer;
  let mqtt: MqttClient;
  let stack: Stack;
  let dataDir: string;
  const seen: Array<{ topic: string; payload: string; retain: boolean }> = [];
  const traces = new Map<string, Trace>();
  const ids = new Map<string, string>();

  beforeAll(async () => {
    // The plugins run as processes from dist/, as under `pnpm start`.
    await buildStack();
    broker = await startMosquitto();
    nats = await startNatsServer({ configText: "max_payload: 8MB\n" });
    mqtt = await connectAsync(broker.url);
    mqtt.on("message", (topic, payload, packet) => {
      seen.push({ topic, payload: payload.toString(), retain: packet.retain });
    });
    await mqtt.subscribeAsync("#");
    dataDir = mkdtempSync(join(tmpdir(), "stack-e2e-"));
    const config = {
      natsUrl: nats.url,
      dataDir,
      natsPort: 0,
      http: { host: "127.0.0.1", port: 0 },
      mqttUrl: broker.url,
      model: "ge2e",
      // What SPEAKERS_AUDIO_MAX_AGE=7d gives; the default is 30 days, so the stream shows which one was used.
      audioRetention: { audioMaxAgeMs: 7 * 86_400_000 },
    };
    const logger = createLogger("stack-e2e", { level: process.env.LOG_LEVEL ?? "silent" });
    stack = createStack(config, { logger, ...defaultPlugins(config) });
    await stack.start();
  });

  afterAll(async () => {
    await stack?.stop();
    await mqtt?.endAsync();
    await broker?.stop();
    await nats?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("keeps captured audio as long as the configured retention says", async () => {
    const audio = await stack.bus.jsm.streams.info("AUDIO");
    expect(audio.config.max_age).toBe(7 * 86_400 * 1e9);
  });

  it("runs presence, unknown-voices and, with MQTT configured, home-assistant", () => {
    expect(stack.plugins?.failed).toEqual([]);
    expect(stack.plugins?.running.map((p) => p.name).sort()).toEqual([
      "home-assistant",
      "presence",
      "unknown-voices",
    ]);
  });

  it("identifies enrolled voices and calls a stranger unknown, clips sent over HTTP", async () => {
    for (const who of [alice, bob]) {
      const reply = await registryClient(stack.bus).enrollFiles(who.speaker, who.files.slice(0, 3));
      expect(reply.result.outcome).toBe("enrolled");
      ids.set(who.speaker, reply.speaker?.id as string);
    }
    const tracer = await traceChain(stack.bus);
    try {
      const sends = [
        { who: alice, file: alice.files[4] as string, room: "kitchen" },
        { who: bob, file: bob.files[4] as string, room: "office" },
        { who: stranger, file: stranger.files[0] as string, room: "hall" },
      ];
      for (const s of sends) {
        const posted = await postClip(stack.urls?.capture as string, new Uint8Array(readFileSync(s.file)), {
          device: `${s.room}-mic`,
          room: s.room,
          contentType: "audio/flac",
        });
        traces.set(s.room, await tracer.wait(posted.id, 90_000));
      }
    } finally {
      await tracer.stop();
    }
    const kitchen = traces.get("kitchen")?.identified;
    const office = traces.get("office")?.identified;
    const hall = traces.get("hall")?.identified;
    expect(kitchen).toMatchObject({
      decision: "known",
      speaker: { name: alice.speaker },
      source: { room: "kitchen" },
    });
    expect(office).toMatchObject({
      decision: "known",
      speaker: { name: bob.speaker },
      source: { room: "office" },
    });
    expect(hall?.decision).toBe("unknown");
    expect(hall?.speaker).toBeUndefined();
    // The worker reported its own time for each clip: the bench splits latency on it.
    for (const t of traces.values()) expect(t.computeMs).toBeGreaterThan(0);
  });

  it("presence knows who was heard where, and not the stranger", async () => {
    const reply = await stack.bus.nc.request("speakers.presence.who-is-home", "{}", { timeout: 30_000 });
    expect(reply.headers?.get(HEADERS.serviceErrorCode) ?? "").toBe("");
    const home = (reply.json() as WhoIsHomeReply).home;
    expect(home.map((r) => [r.name, r.room]).sort()).toEqual(
      [
        [alice.speaker, "kitchen"],
        [bob.speaker, "office"],
      ].sort(),
    );
    expect(home.find((r) => r.name === alice.speaker)?.speakerId).toBe(ids.get(alice.speaker));
  });

  it("unknown-voices kept the stranger's clip to be named later", async () => {
    const hallId = traces.get("hall")?.sourceEventId;
    const clip = await eventually(async () => {
      const reply = await stack.bus.nc.request("speakers.unknown-voices.list", "{}", { timeout: 30_000 });
      return (reply.json() as { clips: UnknownClip[] }).clips.find((c) => c.sourceEventId === hallId);
    }, 30_000);
    expect(clip).toMatchObject({ room: "hall", deviceId: "hall-mic", format: { encoding: "flac" } });
    // Only the unknown voice is kept.
    const reply = await stack.bus.nc.request("speakers.unknown-voices.list", "{}", { timeout: 30_000 });
    expect((reply.json() as { clips: UnknownClip[] }).clips).toHaveLength(1);
  });

  it("home-assistant published discovery and each room's last speaker on the broker", async () => {
    const last = (room: string) => seen.filter((m) => m.topic === `speakers/${room}/last_speaker`).at(-1);
    await eventually(() => (last("kitchen") && last("office") && last("hall") ? true : undefined), 30_000);
    expect(last("kitchen")).toEqual({
      topic: "speakers/kitchen/last_speaker",
      payload: alice.speaker,
      retain: false,
    });
    expect(last("office")?.payload).toBe(bob.speaker);
    expect(last("hall")?.payload).toBe("Unknown");

    const discovery = seen.find(
      (m) => m.topic === "homeassistant/sensor/speakers_kitchen/last_speaker/config",
    );
    expect(JSON.parse(discovery?.payload ?? "{}")).toMatchObject({
      state_topic: "speakers/kitchen/last_speaker",
    });
    const event = seen.find((m) => m.topic === "speakers/kitchen/identified");
    expect(JSON.parse(event?.payload ?? "{}")).toMatchObject({
      event_type: "known",
      speaker: alice.speaker,
      speaker_id: ids.get(alice.speaker),
      device: "kitchen-mic",
    });
    expect(seen.some((m) => m.topic === "speakers/availability" && m.payload === "online")).toBe(true);

    // Home Assistant restarting later still finds the state: the sensor topic is retained on the broker.
    const late = await connectAsync(broker.url);
    try {
      const retained = new Promise<{ payload: string; retain: boolean }>((resolve) => {
        late.on("message", (_topic, payload, packet) =>
          resolve({ payload: payload.toString(), retain: packet.retain }),
        );
      });
      await late.subscribeAsync("speakers/kitchen/last_speaker");
      expect(await retained).toEqual({ payload: alice.speaker, retain: true });
    } finally {
      await late.endAsync();
    }
  });
});
