import { homeAssistantPlugin } from "@speakers/plugin-home-assistant";
import { presence } from "@speakers/plugin-presence";
import type { AnyPlugin } from "@speakers/plugin-sdk";
import { unknownVoices } from "@speakers/plugin-unknown-voices";
import type { StackConfig } from "./config.js";

/** The plugins `pnpm start` runs: presence and unknown-voices always, home-assistant only with MQTT_URL. */
export function defaultPlugins(config: Pick<StackConfig, "mqttUrl">): {
  plugins: AnyPlugin[];
  pluginConfig: Record<string, unknown>;
} {
  const plugins: AnyPlugin[] = [presence, unknownVoices];
  const pluginConfig: Record<string, unknown> = {};
  if (config.mqttUrl !== undefined) {
    // A fresh instance per stack: the plugin holds its MQTT connection.
    plugins.push(homeAssistantPlugin());
    pluginConfig["home-assistant"] = { mqttUrl: config.mqttUrl };
  }
  return { plugins, pluginConfig };
}
