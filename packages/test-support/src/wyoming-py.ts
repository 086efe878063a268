import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { freePort } from "@speakers/runtime";

/** The uv project holding Home Assistant's side (the official `wyoming` library) and the PocketSphinx upstream. */
export const PY_DIR = resolve(import.meta.dirname, "../../../services/wyoming-bridge/py");
const SETUP = "bash scripts/setup.sh (or: cd services/wyoming-bridge/py && uv sync --frozen)";

export interface PyProcess {
  readonly child: ChildProcess;
  /** Every JSON line printed so far. */
  readonly lines: Array<Record<string, unknown>>;
  /** Resolves with the first line (already printed or to come) that matches. */
  next(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  stderr(): string;
  write(line: string): void;
  exited(): Promise<number | null>;
  stop(): Promise<void>;
}

export function spawnPy(module: string, args: string[]): PyProcess {
  const child = spawn("uv", ["run", "--frozen", "python", "-m", `speakers_wyoming_py.${module}`, ...args], {
    cwd: PY_DIR,
    stdio: ["pipe", "pipe", "pipe"],
    // Its own process group: uv does not pass a SIGTERM on to the Python it started.
    detached: true,
  });
  const lines: Array<Record<string, unknown>> = [];
  const watchers = new Set<() => boolean>();
  let ended = false;
  let err = "";
  child.stderr?.on("data", (c: Buffer) => {
    err = (err + c.toString()).slice(-20_000);
  });
  const wake = () => {
    for (const w of watchers) if (w()) watchers.delete(w);
  };
  const exit = once(child, "exit").then(([code]) => code as number | null);
  const out = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  out.on("line", (text) => {
    try {
      lines.push(JSON.parse(text));
    } catch {
      err += `\n[stdout, not JSON] ${text}`;
    }
    wake();
  });
  const closed = once(out, "close").then(() => {
    ended = true;
    wake();
  });
  child.on("error", (e) => {
    err += `\ncould not start uv (${e.message}); install with: ${SETUP}`;
  });
  const proc: PyProcess = {
    child,
    lines,
    stderr: () => err,
    write: (line) => child.stdin?.write(`${line}\n`),
    exited: async () => {
      const code = await exit;
      await closed;
      return code;
    },
    next(match, timeoutMs = 120_000) {
      return new Promise((resolvePromise, reject) => {
        let seen = 0;
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`${module}: no matching line within ${timeoutMs} ms; stderr:\n${err}`));
        }, timeoutMs);
        const check = (): boolean => {
          for (; seen < lines.length; seen++) {
            const line = lines[seen] as Record<string, unknown>;
            if (match(line)) {
              clearTimeout(timer);
              resolvePromise(line);
              return true;
            }
          }
          if (!ended) return false;
          clearTimeout(timer);
          reject(new Error(`${module} ended without a matching line; stderr:\n${err}`));
          return true;
        };
        if (!check()) watchers.add(check);
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        process.kill(-child.pid, "SIGTERM");
        await exit;
      }
    },
  };
  return proc;
}

/** Runs Home Assistant's client to the end and returns its JSON lines. */
export async function runClient(uri: string, args: string[]): Promise<Array<Record<string, unknown>>> {
  const proc = spawnPy("client", ["--uri", uri, ...args]);
  const code = await proc.exited();
  if (code !== 0) throw new Error(`the Wyoming client exited ${code}:\n${proc.stderr()}`);
  return proc.lines;
}

/** The real Wyoming ASR server around PocketSphinx, on a free port. */
export async function startPocketSphinx(): Promise<PyProcess & { uri: string }> {
  const port = await freePort();
  const uri = `tcp://127.0.0.1:${port}`;
  const proc = spawnPy("upstream", ["--uri", uri]);
  await proc.next((l) => l.event === "ready", 180_000);
  return Object.assign(proc, { uri });
}
