import { type ChildProcess, spawn } from "node:child_process";
import type { Logger } from "@speakers/bus";
import { stopProcess } from "./stop-process.js";

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Child {
  readonly pid: number | undefined;
  readonly exited: boolean;
  /** Resolves once the process has exited, however it ended (stop(), a crash, SIGKILL, a failed spawn). */
  readonly ended: Promise<ChildExit>;
  /** The last lines it wrote, for error messages. */
  tail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnChildOptions {
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  logger: Logger;
  /** Each output line goes to the logger; this picks the level (default info) and may rewrite the text. */
  line?: (
    text: string,
  ) => { level: "debug" | "info" | "warn" | "error"; msg: string; fields?: object } | undefined;
  /** Opens an IPC channel (Node children): each message the child sends goes here. */
  onMessage?: (message: unknown) => void;
}

const alive = new Set<ChildProcess>();
let exitHook = false;

/**
 * Starts a helper process in its own process group. A terminal's Ctrl-C then reaches only this process, which
 * stops the parts in order (capture, plugins, registry, worker, then nats-server) instead of all at once.
 * If this process dies without stopping them, the exit hook still kills them so nothing is left running.
 */
export function spawnChild(options: SpawnChildOptions): Child {
  if (!exitHook) {
    exitHook = true;
    process.once("exit", () => {
      for (const child of alive) child.kill("SIGKILL");
    });
  }
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: options.onMessage ? ["ignore", "pipe", "pipe", "ipc"] : ["ignore", "pipe", "pipe"],
    detached: true,
  });
  if (options.onMessage) child.on("message", options.onMessage);
  alive.add(child);
  const ended = new Promise<ChildExit>((resolve) => {
    child.once("exit", (code, signal) => {
      alive.delete(child);
      resolve({ code, signal });
    });
    child.once("error", (err) => {
      alive.delete(child);
      options.logger.error({ err }, `could not run ${options.command}`);
      // A spawn that failed never emits exit.
      if (child.pid === undefined) resolve({ code: null, signal: null });
    });
  });
  const lines: string[] = [];
  const forward = (stream: NodeJS.ReadableStream | null) => {
    let partial = "";
    stream?.on("data", (chunk: Buffer) => {
      const parts = (partial + chunk.toString("utf8")).split("\n");
      partial = parts.pop() ?? "";
      for (const text of parts) {
        if (!text) continue;
        lines.push(text);
        if (lines.length > 100) lines.shift();
        const out = options.line ? options.line(text) : { level: "info" as const, msg: text };
        if (out) options.logger[out.level](out.fields ?? {}, out.msg);
      }
    });
  };
  forward(child.stdout);
  forward(child.stderr);

  let stopping: Promise<void> | undefined;
  return {
    get pid() {
      return child.pid;
    },
    get exited() {
      return child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
    },
    ended,
    tail: () => lines.join("\n"),
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        await stopProcess(child, graceMs);
        if (child.pid !== undefined) await ended;
      })();
      return stopping;
    },
  };
}
