import {
  connectBus,
  installShutdown,
  prepareTopology,
  provisionModeFromEnv,
  SERVICE_NEEDS,
} from "@speakers/bus";
import { SpeakersError } from "@speakers/events";
import type { AnyPlugin } from "./define.js";
import { type RunningPlugins, type RunPluginsOptions, runPlugins } from "./run.js";

/**
 * The whole `main` of a plugin process: NATS_URL (default nats://127.0.0.1:4222), each plugin's config from
 * `SPEAKERS_PLUGIN_<NAME>` (JSON; NAME upper-cased, `-` as `_`), LOG_LEVEL, SPEAKERS_PROVISION (see
 * `prepareTopology`: with a NATS user it only checks SPEAKERS and DEADLETTER exist); drains on SIGTERM.
 */
export async function runPluginProcess(
  plugins: readonly AnyPlugin[],
  options: Omit<RunPluginsOptions, "config"> & { env?: NodeJS.ProcessEnv } = {},
): Promise<RunningPlugins> {
  const { env = process.env, ...rest } = options;
  const config: Record<string, unknown> = {};
  for (const plugin of plugins) {
    const key = pluginConfigEnv(plugin.name);
    const text = env[key];
    if (text === undefined || text === "") continue;
    try {
      config[plugin.name] = JSON.parse(text);
    } catch (err) {
      throw new SpeakersError("INVALID_REQUEST", `${key} is not JSON: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  const bus = await connectBus({
    servers: env.NATS_URL ?? "nats://127.0.0.1:4222",
    name: `plugins-${plugins.map((p) => p.name).join("-")}`.slice(0, 100),
  });
  await prepareTopology(bus, SERVICE_NEEDS.plugins, { mode: provisionModeFromEnv(env) });
  const running = await runPlugins(bus, plugins, { ...rest, config });
  const shutdown = installShutdown(bus, [() => running.stop()]);
  if (process.send !== undefined && process.connected) {
    // Started by a supervisor over IPC (`pnpm start`): tell it what runs, and end with it. A supervisor that
    // was SIGKILLed runs no exit hook; its channel closing is the only news of it.
    const ready: PluginProcessReady = {
      type: PLUGIN_PROCESS_READY,
      running: running.running.map((p) => p.name),
      failed: running.failed.map((f) => ({ name: f.name, code: f.error.code, message: f.error.message })),
    };
    process.send(ready);
    process.once("disconnect", () => {
      bus.logger.info("supervisor gone, shutting down");
      void shutdown();
    });
  }
  return running;
}

export const PLUGIN_PROCESS_READY = "speakers.plugin-process.ready";

/** The one IPC message a plugin process sends its supervisor, once its plugins are started. */
export interface PluginProcessReady {
  type: typeof PLUGIN_PROCESS_READY;
  running: string[];
  failed: Array<{ name: string; code: string; message: string }>;
}

export function pluginConfigEnv(name: string): string {
  return `SPEAKERS_PLUGIN_${name.toUpperCase().replace(/-/g, "_")}`;
}
