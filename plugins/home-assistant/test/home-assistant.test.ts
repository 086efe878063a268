import { homeAssistantPlugin } from "@speakers/plugin-home-assistant";
import { type RunningPlugin, startPlugin } from "@speakers/plugin-sdk";
import {
  eventually,
  type Mosquitto,
  publishIdentified,
  startMosquitto,
  useTestBus,
} from "@speakers/test-support";
import { connectAsync, type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

interface Seen {
  topic: string;
  payload: string;
  retain: boolean;
}

/** A subscriber on the real broker that keeps every message it receives, as Home Assistant would. */
async function listen(url: string): Promise<{ client: MqttClient; seen: Seen[] }> {
  const client = await connectAsync(url, { reconnectPeriod: 0 });
  const seen: Seen[] = [];
  client.on("message", (topic, payload, packet) =>
    seen.push({ topic, payload: payload.toString(), retain: packet.retain }),
  );
  await client.subscribeAsync(["homeassistant/#", "speakers/#"], { qos: 1 });
  return { client, seen };
}

const last = (seen: Seen[], topic: string) => seen.filter((m) => m.topic === topic).at(-1);

describe("home-assistant plugin against a real Mosquitto", () => {
  const t = useTestBus("home-assistant-test");
  let broker: Mosquitto;
  let plugin: RunningPlugin | undefined;

  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await plugin?.stop();
    await broker?.stop();
  });

  it("announces each room through MQTT discovery and publishes every identification", async () => {
    const ha = await listen(broker.url);
    plugin = await startPlugin(t.bus, homeAssistantPlugin(), {
      config: { mqttUrl: broker.url, clientId: "speakers-test" },
      backoffMs: 100,
    });
    await eventually(() => (last(ha.seen, "speakers/availability")?.payload === "online" ? true : undefined));

    await publishIdentified(t.bus, { name: "Alice", room: "Living Room" });
    await publishIdentified(t.bus, { unknown: true, room: "Living Room" });
    await eventually(() =>
      ha.seen.filter((m) => m.topic === "speakers/living_room/identified").length === 2 ? true : undefined,
    );

    const sensor = JSON.parse(
      last(ha.seen, "homeassistant/sensor/speakers_living_room/last_speaker/config")?.payload ?? "{}",
    );
    expect(sensor).toMatchObject({
      unique_id: "speakers_living_room_last_speaker",
      state_topic: "speakers/living_room/last_speaker",
      json_attributes_topic: "speakers/living_room/last_speaker/attributes",
      availability_topic: "speakers/availability",
      device: {
        identifiers: ["speakers_living_room"],
        name: "Speakers Living Room",
        suggested_area: "Living Room",
      },
    });
    const eventEntity = JSON.parse(
      last(ha.seen, "homeassistant/event/speakers_living_room/identified/config")?.payload ?? "{}",
    );
    expect(eventEntity).toMatchObject({
      state_topic: "speakers/living_room/identified",
      event_types: ["known", "unknown"],
    });

    const events = ha.seen
      .filter((m) => m.topic === "speakers/living_room/identified")
      .map((m) => JSON.parse(m.payload));
    expect(events.map((e) => [e.event_type, e.speaker, e.speaker_id])).toEqual([
      ["known", "Alice", "spk_alice"],
      ["unknown", "Unknown", null],
    ]);
    expect(
      ha.seen.filter((m) => m.topic === "speakers/living_room/last_speaker").map((m) => m.payload),
    ).toEqual(["Alice", "Unknown"]);
    await ha.client.endAsync();

    // Home Assistant restarting later still finds the entities and the current state: they are retained.
    const late = await listen(broker.url);
    await eventually(() => (last(late.seen, "speakers/living_room/last_speaker") ? true : undefined));
    expect(last(late.seen, "speakers/living_room/last_speaker")).toEqual({
      topic: "speakers/living_room/last_speaker",
      payload: "Unknown",
      retain: true,
    });
    expect(last(late.seen, "homeassistant/sensor/speakers_living_room/last_speaker/config")?.retain).toBe(
      true,
    );
    expect(late.seen.some((m) => m.topic === "speakers/living_room/identified")).toBe(false);

    await plugin.stop();
    plugin = undefined;
    await eventually(() =>
      last(late.seen, "speakers/availability")?.payload === "offline" ? true : undefined,
    );
    await late.client.endAsync();
  });
});
