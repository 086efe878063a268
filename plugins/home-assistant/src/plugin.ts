import { definePlugin, type Static, Type } from "@speakers/plugin-sdk";
import { connect, type MqttClient } from "mqtt";
import {
  availabilityTopic,
  discoveryMessages,
  identificationMessages,
  type MqttMessage,
  roomOf,
} from "./discovery.js";

export const HomeAssistantConfigSchema = Type.Object({
  mqttUrl: Type.String({ default: "mqtt://127.0.0.1:1883" }),
  username: Type.Optional(Type.String()),
  password: Type.Optional(Type.String()),
  clientId: Type.Optional(Type.String()),
  discoveryPrefix: Type.String({ default: "homeassistant" }),
  baseTopic: Type.String({ default: "speakers" }),
  unknownName: Type.String({ default: "Unknown" }),
});
export type HomeAssistantConfig = Static<typeof HomeAssistantConfigSchema>;

/**
 * Publishes identified speakers to Home Assistant through MQTT discovery, so no custom code is needed there:
 * per room a "last speaker" sensor and a "speaker identified" event entity. A factory, because the MQTT
 * connection belongs to one running instance.
 */
export function homeAssistantPlugin() {
  let client: MqttClient | undefined;
  const announced = new Set<string>();

  const send = async (messages: MqttMessage[]) => {
    // While the broker is away, fail fast: the SDK retries the event later instead of mqtt.js queueing it.
    if (!client?.connected) throw new Error("the MQTT broker is not connected");
    for (const m of messages) await client.publishAsync(m.topic, m.payload, { qos: 1, retain: m.retain });
  };

  return definePlugin({
    name: "home-assistant",
    version: "0.1.0",
    description: "Identified speakers in Home Assistant via MQTT discovery.",
    config: HomeAssistantConfigSchema,
    on: {
      "speaker.identified": async (event, ctx) => {
        const room = roomOf(event);
        if (!announced.has(room)) {
          await send(discoveryMessages(ctx.config, room));
          announced.add(room);
        }
        await send(identificationMessages(ctx.config, event, ctx.event));
      },
    },
    start(ctx) {
      const availability = availabilityTopic(ctx.config);
      // Not awaited: a broker that is down at start must not stop the plugin (events wait and are retried).
      const c = connect(ctx.config.mqttUrl, {
        ...(ctx.config.username === undefined ? {} : { username: ctx.config.username }),
        ...(ctx.config.password === undefined ? {} : { password: ctx.config.password }),
        ...(ctx.config.clientId === undefined ? {} : { clientId: ctx.config.clientId }),
        // The broker marks every entity unavailable if this process dies without saying goodbye.
        will: { topic: availability, payload: Buffer.from("offline"), qos: 1, retain: true },
        reconnectPeriod: 2_000,
      });
      client = c;
      c.on("error", (err) => ctx.logger.warn({ err }, "MQTT error"));
      c.on("offline", () => ctx.logger.warn("MQTT broker offline"));
      c.on("connect", () => {
        // A restarted broker may have lost its retained messages: announce the rooms again.
        announced.clear();
        ctx.logger.info({ url: ctx.config.mqttUrl }, "connected to MQTT");
        c.publishAsync(availability, "online", { qos: 1, retain: true }).catch((err) =>
          ctx.logger.warn({ err }, "could not publish availability"),
        );
      });
      return async () => {
        client = undefined;
        if (c.connected)
          await c.publishAsync(availability, "offline", { qos: 1, retain: true }).catch(() => {});
        await c.endAsync();
      };
    },
  });
}

export const homeAssistant = homeAssistantPlugin();
