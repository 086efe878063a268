import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";

const WORKER_DIR = resolve(import.meta.dirname, "../../../embedding-worker");

export interface WorkerProcess {
  stop(): Promise<void>;
  log(): string;
}

/** The real Python worker (GE2E: real weights on these machines), started and awaited until it says ready. */
export async function startWorkerProcess(natsUrl: string, model = "ge2e"): Promise<WorkerProcess> {
  const child: ChildProcess = spawn(resolve(WORKER_DIR, ".venv/bin/python"), ["-m", "speaker_worker"], {
    cwd: WORKER_DIR,
    env: { ...process.env, NATS_URL: natsUrl, SPEAKERS_MODEL: model, LOG_LEVEL: "INFO" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`worker not ready in 120 s:\n${output}`)), 120_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/ ready model=/.test(output)) {
        clearTimeout(timer);
        ready();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`worker exited with ${code}:\n${output}`));
    });
  });
  return {
    log: () => output,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
