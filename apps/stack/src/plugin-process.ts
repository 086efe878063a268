import { existsSync } from "node:fs";
import type { Logger } from "@speakers/bus";
import { SpeakersError } from "@speakers/events";
import { PLUGIN_PROCESS_READY, type PluginProcessReady, pluginConfigEnv } from "@speakers/plugin-sdk";
import { type Child, type RunningPart, spawnChild } from "@speakers/runtime";

/** A plugin the stack runs as its own process: its `main` calls the SDK's runPluginProcess. */
export interface PluginProcess {
  /** The plugin's name: its config key, its consumer, its NATS user under the embedded auth. */
  readonly name: string;
  /** The built script that runs it (`plugins/<name>/dist/main.js`). */
  readonly main: string;
}

export interface RunningPluginProcess extends RunningPart {
  readonly ready: PluginProcessReady;
}

/**
 * V8 flags of every plugin process, and of the stack's own (`pnpm start` passes them, `pnpm bench:soak` too).
 * A plugin handles a few events a second on a home machine; with V8's defaults its old space fills with garbage
 * to about 1.5x the live heap before a full collection, so its RSS climbed 10 % over a soak while the live heap
 * stayed at 10.7 MB (measured after forced collections).
 * `--optimize-for-size` trades a little speed for a heap that grows less before it is collected.
 */
export const LEAN_NODE_FLAGS: readonly string[] = ["--optimize-for-size"];

const PINO_LEVELS: Record<number, "debug" | "info" | "warn" | "error"> = {
  10: "debug",
  20: "debug",
  30: "info",
  40: "warn",
  50: "error",
  60: "error",
};

/**
 * Starts one plugin process and resolves once it says (over IPC) which of its plugins run. A process that
 * exits first, or says nothing in time, fails with its last log lines. Its JSON log lines become the stack's
 * own entries, tagged with the plugin.
 */
export async function startPluginProcess(
  spec: PluginProcess,
  opts: { natsUrl: string; config: unknown; logger: Logger; readyTimeoutMs?: number },
): Promise<RunningPluginProcess> {
  if (!existsSync(spec.main)) {
    throw new SpeakersError("INTERNAL", `plugin ${spec.name} is not built: no ${spec.main}`, {
      hint: "Run `pnpm build` (pnpm start does) before starting the stack.",
    });
  }
  const log = opts.logger.child({ plugin: spec.name });
  let onReady: ((ready: PluginProcessReady) => void) | undefined;
  const ready = new Promise<PluginProcessReady>((resolve) => {
    onReady = resolve;
  });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NATS_URL: opts.natsUrl,
    LOG_LEVEL: opts.logger.level,
    // The stack provisioned the topology with its own settings (retention); a plugin only checks it.
    SPEAKERS_PROVISION: "check",
  };
  delete env.SPEAKERS_LOG_FORMAT;
  if (opts.config !== undefined) env[pluginConfigEnv(spec.name)] = JSON.stringify(opts.config);
  const child: Child = spawnChild({
    command: process.execPath,
    args: [...LEAN_NODE_FLAGS, spec.main],
    env,
    logger: log,
    line: pinoLine,
    onMessage: (message) => {
      if (isReady(message)) onReady?.(message);
    },
  });
  const timeoutMs = opts.readyTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const answer = await Promise.race([
      ready,
      child.ended.then((exit) => {
        throw new Error(`exited (code ${exit.code}, signal ${exit.signal}) before it was ready`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not ready within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { pid: child.pid, ended: child.ended, ready: answer, stop: () => child.stop(10_000) };
  } catch (err) {
    await child.stop(2_000);
    throw new SpeakersError("INTERNAL", `plugin process ${spec.name} ${(err as Error).message}`, {
      details: { log: child.tail() },
      cause: err,
    });
  } finally {
    clearTimeout(timer);
  }
}

function isReady(message: unknown): message is PluginProcessReady {
  return (
    typeof message === "object" &&
    message !== null &&
    (message as { type?: unknown }).type === PLUGIN_PROCESS_READY
  );
}

/** A pino JSON line at its own level, without the fields the stack's logger adds again. */
function pinoLine(text: string) {
  try {
    const {
      level,
      msg,
      time: _t,
      pid: _p,
      hostname: _h,
      name: _n,
      ...fields
    } = JSON.parse(text) as {
      level?: number;
      msg?: string;
      [key: string]: unknown;
    };
    return { level: PINO_LEVELS[level ?? 30] ?? "info", msg: msg ?? "", fields };
  } catch {
    return { level: "info" as const, msg: text };
  }
}
