import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { StackConfig } from "./config.js";
import type { PluginProcess } from "./plugin-process.js";

const require = createRequire(import.meta.url);

/** A plugin package's process entry: `main.js` beside the package's built front door. */
function pluginProcess(name: string, pkg: string): PluginProcess {
  return { name, main: join(dirname(require.resolve(pkg)), "main.js") };
}

/**
 * The plugins `pnpm start` runs, each in its own supervised process: presence and unknown-voices always,
 * home-assistant only with MQTT_URL.
 */
export function defaultPlugins(config: Pick<StackConfig, "mqttUrl">): {
  plugins: PluginProcess[];
  pluginConfig: Record<string, unknown>;
} {
  const plugins = [
    pluginProcess("presence", "@speakers/plugin-presence"),
    pluginProcess("unknown-voices", "@speakers/plugin-unknown-voices"),
  ];
  const pluginConfig: Record<string, unknown> = {};
  if (config.mqttUrl !== undefined) {
    plugins.push(pluginProcess("home-assistant", "@speakers/plugin-home-assistant"));
    pluginConfig["home-assistant"] = { mqttUrl: config.mqttUrl };
  }
  return { plugins, pluginConfig };
}
