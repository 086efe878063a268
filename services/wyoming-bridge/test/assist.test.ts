/**
 * Home Assistant Assist through the bridge, on real speech: the official `wyoming` library plays Home
 * Assistant, a real Wyoming ASR server (PocketSphinx) is the upstream, and behind the bridge run a real
 * nats-server, the GE2E worker, the registry, Mosquitto and the real home-assistant plugin.
 */
import { createLogger } from "@speakers/bus";
import {
  type DevClip,
  devClips,
  eventually,
  runClient,
  spawnPy,
  startPocketSphinx,
} from "@speakers/test-support";
import { connectAsync, type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WyomingBridge } from "../src/index.js";
import { type Chain, startChain } from "./support/chain.js";
import { readStream } from "./support/streams.js";

const bySpeaker = new Map<string, DevClip[]>();
for (const c of devClips()) bySpeaker.set(c.speaker, [...(bySpeaker.get(c.speaker) ?? []), c]);
const [alice, stranger] = [...bySpeaker.values()];
if (!alice || alice.length < 5 || !stranger)
  throw new Error("the dev set needs two speakers, one with 5 files");
const enrollFiles = alice.slice(0, 3).map((c) => c.path);
const aliceSays = alice[3]?.path as string;
const strangerSays = stranger[0]?.path as string;
// Short utterances keep PocketSphinx quick on a loaded machine; still well past the 1.5 s provisional point.
const SPEECH = ["--max-seconds", "4", "--realtime"];
const MARKER = "speakers-test/transcript";

describe("Home Assistant Assist through the Wyoming bridge", () => {
  let chain: Chain;
  let upstream: Awaited<ReturnType<typeof startPocketSphinx>>;
  let bridge: WyomingBridge;
  let mqtt: MqttClient;
  let kitchen = "";
  let mqttAddress = "";
  const seen: Array<{ topic: string; payload: string }> = [];
  const logger = createLogger("wyoming-assist", { level: process.env.LOG_LEVEL ?? "silent" });

  beforeAll(async () => {
    chain = await startChain({ mqtt: true });
    upstream = await startPocketSphinx();
    const broker = chain.broker;
    if (!broker) throw new Error("no broker");
    mqttAddress = `127.0.0.1:${broker.port}`;
    mqtt = await connectAsync(broker.url, { reconnectPeriod: 0 });
    mqtt.on("message", (topic, payload) => seen.push({ topic, payload: payload.toString() }));
    await mqtt.subscribeAsync(["speakers/#", MARKER], { qos: 1 });
    const enrolled = await chain.enroll("Alice", enrollFiles);
    expect(enrolled.result).toMatchObject({ outcome: "enrolled" });
    bridge = chain.bridge(
      {
        SPEAKERS_WYOMING_URI: "off",
        SPEAKERS_WYOMING_ROOMS: "kitchen=tcp://127.0.0.1:0",
        SPEAKERS_WYOMING_UPSTREAM: upstream.uri,
        // The order under test must not hinge on this machine's speed; the bound itself is checked elsewhere.
        SPEAKERS_WYOMING_WAIT_MS: "30000",
      },
      logger,
    );
    await bridge.start();
    kitchen = bridge.listeners[0]?.uri ?? "";
  }, 600_000);
  afterAll(async () => {
    await bridge?.stop();
    await mqtt?.endAsync();
    await upstream?.stop();
    await chain?.stop();
  });

  /** One utterance from "Home Assistant", marking the transcript's arrival on the broker. */
  async function speak(uri: string, file: string) {
    const before = upstream.lines.filter((l) => l.event === "transcript").length;
    const from = seen.length;
    const [line] = await runClient(uri, [
      "transcribe",
      file,
      ...SPEECH,
      "--mqtt",
      mqttAddress,
      "--mqtt-topic",
      MARKER,
    ]);
    const heard = upstream.lines.filter((l) => l.event === "transcript")[before];
    return { line, upstreamText: heard?.text, from };
  }

  /** The audio.captured this bridge published last, and every speaker event for it. */
  async function lastUtterance() {
    const captured = (await readStream(chain.bus, "AUDIO", "audio.captured.>")).at(-1);
    if (!captured) throw new Error("nothing captured");
    const forIt = (m: { json: Record<string, unknown> }) => m.json.sourceEventId === captured.id;
    const identified = await eventually(async () => {
      const found = (await readStream(chain.bus, "SPEAKERS", "speaker.identified")).filter(forIt);
      return found.length > 0 ? found : undefined;
    });
    const provisional = await eventually(async () => {
      const found = (await readStream(chain.bus, "SPEAKERS", "speaker.provisional")).filter(forIt);
      return found.length > 0 ? found : undefined;
    });
    return { captured, identified, provisional };
  }

  /** Positions in what Home Assistant's broker delivered: the room's state for this event, and the marker. */
  function order(identifiedId: string, from: number, room = "kitchen") {
    const state = seen.findIndex(
      (m) =>
        m.topic === `speakers/${room}/last_speaker/attributes` &&
        JSON.parse(m.payload).event_id === identifiedId,
    );
    const marker = seen.findIndex((m, i) => i >= from && m.topic === MARKER);
    return { state, marker };
  }

  it("answers describe with an ASR program for this project in the upstream's languages", async () => {
    const [line] = await runClient(kitchen, ["describe"]);
    expect(line?.info).toMatchObject({
      asr: [{ name: "speakers", installed: true, models: [{ languages: ["en"] }] }],
    });
  });

  it("returns the upstream's transcript unchanged after the kitchen's MQTT state names the speaker", async () => {
    const { line, upstreamText, from } = await speak(kitchen, aliceSays);
    expect(line?.error).toBeUndefined();
    expect(typeof upstreamText).toBe("string");
    expect(line?.text).toBe(upstreamText);

    const { captured, identified, provisional } = await lastUtterance();
    expect(captured.json).toMatchObject({
      source: { service: "wyoming", deviceId: "wyoming-kitchen", room: "kitchen" },
      format: { encoding: "wav", sampleRate: 16000, channels: 1 },
    });
    expect(identified).toHaveLength(1);
    expect(identified[0]?.json).toMatchObject({ decision: "known", speaker: { name: "Alice" } });
    // The early guess is its own event, so the final identification stays the only speaker.identified.
    expect(provisional).toHaveLength(1);
    expect(provisional[0]?.json.speechMs).toBeGreaterThanOrEqual(1500);

    const { state, marker } = order(identified[0]?.id ?? "", from);
    expect(state).toBeGreaterThanOrEqual(0);
    expect(marker).toBeGreaterThan(state);
    expect(seen.filter((m) => m.topic === "speakers/kitchen/last_speaker").at(-1)?.payload).toBe("Alice");

    const transcribed = await eventually(async () =>
      (await readStream(chain.bus, "AUDIO", "audio.transcribed.>")).find(
        (m) => m.json.sourceEventId === captured.id,
      ),
    );
    expect(transcribed.json.transcript).toBe(upstreamText);
  });

  it("calls a voice it never enrolled unknown, in MQTT before the transcript too", async () => {
    const { line, from } = await speak(kitchen, strangerSays);
    expect(line?.error).toBeUndefined();
    const { identified } = await lastUtterance();
    expect(identified).toHaveLength(1);
    expect(identified[0]?.json.decision).toBe("unknown");
    const { state, marker } = order(identified[0]?.id ?? "", from);
    expect(state).toBeGreaterThanOrEqual(0);
    expect(marker).toBeGreaterThan(state);
  });

  it("without an upstream answers an empty transcript, still only after the office's MQTT state is updated", async () => {
    // No upstream to hide behind: a bridge that did not wait would answer at once, before the identification.
    const office = chain.bridge(
      {
        SPEAKERS_WYOMING_URI: "off",
        SPEAKERS_WYOMING_ROOMS: "office=tcp://127.0.0.1:0",
        SPEAKERS_WYOMING_WAIT_MS: "30000",
      },
      logger,
    );
    await office.start();
    try {
      const from = seen.length;
      const [line] = await runClient(office.listeners[0]?.uri ?? "", [
        "transcribe",
        aliceSays,
        ...SPEECH,
        "--mqtt",
        mqttAddress,
        "--mqtt-topic",
        MARKER,
      ]);
      expect(line?.text).toBe("");
      const { captured, identified } = await lastUtterance();
      expect(captured.json).toMatchObject({ source: { deviceId: "wyoming-office", room: "office" } });
      const { state, marker } = order(identified[0]?.id ?? "", from, "office");
      expect(state).toBeGreaterThanOrEqual(0);
      expect(marker).toBeGreaterThan(state);
    } finally {
      await office.stop();
    }
  });

  it("streams audio to the upstream before audio-stop", async () => {
    const before = upstream.lines.filter((l) => l.event === "first-chunk").length;
    const client = spawnPy("client", [
      "--uri",
      kitchen,
      "transcribe",
      aliceSays,
      "--max-seconds",
      "2",
      "--hold-stop",
    ]);
    try {
      await client.next((l) => l.event === "chunks-sent");
      // The client holds audio-stop back until told: only a bridge that streams lets the upstream see audio now.
      await eventually(() =>
        upstream.lines.filter((l) => l.event === "first-chunk").length > before ? true : undefined,
      );
      client.write("go");
      const done = await client.next((l) => typeof l.text === "string");
      expect(done.error).toBeUndefined();
    } finally {
      await client.stop();
    }
  });

  it("tags the transcript with the speaker only when asked", async () => {
    const tagging = chain.bridge(
      {
        SPEAKERS_WYOMING_URI: "tcp://127.0.0.1:0",
        SPEAKERS_WYOMING_UPSTREAM: upstream.uri,
        SPEAKERS_WYOMING_TAG: "prefix",
        // Generous: this check is about the tag, and the machine may be busy.
        SPEAKERS_WYOMING_WAIT_MS: "20000",
      },
      logger,
    );
    await tagging.start();
    try {
      const { line, upstreamText } = await speak(tagging.listeners[0]?.uri ?? "", aliceSays);
      expect(line?.text).toBe(upstreamText ? `[Alice] ${upstreamText}` : "[Alice]");
    } finally {
      await tagging.stop();
    }
  });
});
