// Interim: spawns the Python worker until @speakers/embedding-client's ensureWorker() lands; then this goes.
import { resolve } from "node:path";
import type { Logger } from "@speakers/bus";
import { spawnChild } from "./child.js";

export interface WorkerHandle {
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

const WORKER_DIR = resolve(import.meta.dirname, "../../embedding-worker");

export async function startWorker(opts: {
  natsUrl: string;
  model: string | undefined;
  logger: Logger;
  readyTimeoutMs?: number;
}): Promise<WorkerHandle> {
  const env: NodeJS.ProcessEnv = { ...process.env, NATS_URL: opts.natsUrl, LOG_LEVEL: "INFO" };
  if (opts.model) env.SPEAKERS_MODEL = opts.model;
  let stopping = false;
  let ready: () => void = () => {};
  const isReady = new Promise<void>((r) => {
    ready = r;
  });
  const child = spawnChild({
    command: resolve(WORKER_DIR, ".venv/bin/python"),
    args: ["-m", "speaker_worker"],
    cwd: WORKER_DIR,
    env,
    logger: opts.logger.child({ component: "worker" }),
    line: (text) => {
      if (/ ready model=/.test(text)) ready();
      // Its own drain on SIGTERM ends with a disconnect warning; expected then, so not worth a warning.
      if (stopping && / WARNING /.test(text))
        return { level: "info", msg: text.replace(/^\S+ \S+ \S+ /, "") };
      const level = / (ERROR|CRITICAL) /.test(text) ? "error" : / WARNING /.test(text) ? "warn" : "info";
      return { level, msg: text.replace(/^\S+ \S+ \S+ /, "") };
    },
  });
  const timeoutMs = opts.readyTimeoutMs ?? 180_000;
  let timer: NodeJS.Timeout | undefined;
  let poll: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      isReady,
      new Promise<never>((_, fail) => {
        timer = setTimeout(
          () => fail(new Error(`worker not ready in ${timeoutMs} ms:\n${child.tail()}`)),
          timeoutMs,
        );
        poll = setInterval(() => {
          if (child.exited) fail(new Error(`worker exited:\n${child.tail()}`));
        }, 200);
      }),
    ]);
  } catch (err) {
    await child.stop(2_000);
    throw err;
  } finally {
    clearTimeout(timer);
    clearInterval(poll);
  }
  opts.logger.info({ childPid: child.pid }, "embedding worker started");
  return {
    pid: child.pid,
    stop: () => {
      stopping = true;
      return child.stop(15_000);
    },
  };
}
