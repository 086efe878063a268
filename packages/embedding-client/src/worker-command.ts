import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { SpeakersError } from "@speakers/events";

export interface WorkerCommand {
  command: string;
  args: string[];
  cwd: string;
}

/** The worker's folder: $SPEAKERS_WORKER_DIR, else services/embedding-worker of this checkout. */
export function defaultWorkerDir(env: NodeJS.ProcessEnv = process.env): string {
  // src/ (tests) and dist/ (built) both sit one level below the package folder.
  return env.SPEAKERS_WORKER_DIR ?? resolve(import.meta.dirname, "../../../services/embedding-worker");
}

/**
 * How to run `python -m speaker_worker`: the given interpreter, else the worker's synced .venv, else
 * `uv run --frozen` (which syncs the environment from the lock file first).
 */
export function workerCommand(options: {
  python?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}): WorkerCommand {
  const cwd = options.cwd ?? defaultWorkerDir(options.env);
  if (!existsSync(join(cwd, "pyproject.toml"))) {
    throw new SpeakersError("WORKER_UNAVAILABLE", `No embedding worker project at ${cwd}.`, {
      hint: "Pass cwd (or set SPEAKERS_WORKER_DIR) to the services/embedding-worker folder.",
    });
  }
  if (options.python) return { command: options.python, args: ["-m", "speaker_worker"], cwd };
  const venvPython = join(cwd, ".venv", "bin", "python");
  if (existsSync(venvPython)) return { command: venvPython, args: ["-m", "speaker_worker"], cwd };
  return { command: "uv", args: ["run", "--frozen", "python", "-m", "speaker_worker"], cwd };
}
