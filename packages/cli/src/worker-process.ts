/**
 * Starts the Python embedding worker as a child process and waits for its "ready" line. The embedded stack
 * uses this until the embedding client's ensureWorker is available to it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { SpeakersError } from "@speakers/events";

/** The worker's folder: $SPEAKERS_WORKER_DIR, else services/embedding-worker of this checkout. */
export function workerDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.SPEAKERS_WORKER_DIR ?? resolve(import.meta.dirname, "../../../services/embedding-worker");
}

export interface WorkerProcess {
  stop(): Promise<void>;
}

export interface StartWorkerOptions {
  natsUrl: string;
  /** ecapa or ge2e; default $SPEAKERS_MODEL, else the worker's own default. */
  model?: string;
  /** Folders the worker may read paths from (eval sends paths instead of bytes). */
  audioRoots?: string[];
  readyTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export async function startWorkerProcess(options: StartWorkerOptions): Promise<WorkerProcess> {
  const env = options.env ?? process.env;
  const dir = workerDir(env);
  const python = resolve(dir, ".venv/bin/python");
  if (!existsSync(python)) {
    throw new SpeakersError("WORKER_UNAVAILABLE", `No worker environment at ${python}.`, {
      hint: "Run `pnpm setup` (it syncs services/embedding-worker/.venv), or set NATS_URL to a running system.",
    });
  }
  const model = options.model ?? env.SPEAKERS_MODEL;
  const child: ChildProcess = spawn(python, ["-m", "speaker_worker"], {
    cwd: dir,
    env: {
      ...env,
      NATS_URL: options.natsUrl,
      ...(model ? { SPEAKERS_MODEL: model } : {}),
      ...(options.audioRoots ? { AUDIO_ROOTS: options.audioRoots.join(":") } : {}),
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let output = "";
  await new Promise<void>((ready, fail) => {
    const timeoutMs = options.readyTimeoutMs ?? 300_000;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      fail(
        new SpeakersError("WORKER_UNAVAILABLE", `The worker was not ready within ${timeoutMs / 1000} s.`, {
          details: { log: output.slice(-2000) },
        }),
      );
    }, timeoutMs);
    child.stderr?.on("data", (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
      if (/ ready model=/.test(output)) {
        clearTimeout(timer);
        ready();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(
        new SpeakersError("WORKER_UNAVAILABLE", `The worker exited (code ${code}) before it was ready.`, {
          details: { log: output.slice(-2000) },
        }),
      );
    });
  });
  // Keep draining stderr so the child never blocks on a full pipe.
  child.stderr?.resume();
  return {
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
