import type { AnyPlugin } from "@speakers/plugin-sdk";
import type { StackConfig } from "./config.js";

/** The plugins `pnpm start` runs: presence and unknown-voices always, home-assistant only with MQTT_URL. */
export function defaultPlugins(_config: StackConfig): {
  plugins: AnyPlugin[];
  pluginConfig: Record<string, unknown>;
} {
  // Filled in as the plugin packages land.
  return { plugins: [], pluginConfig: {} };
}
