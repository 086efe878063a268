import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import type { NatsConnection } from "@nats-io/nats-core";
import { type Bus, closeBus, connectBus, createLogger } from "@speakers/bus";
import { MODELS, modelKey, resolveModel, SpeakersError } from "@speakers/events";
import { onProcessExit, stopProcess } from "@speakers/runtime";
import { createEmbeddingClient, type ModelChoice, type WorkerPing } from "./client.js";
import { workerCommand } from "./worker-command.js";

export interface EnsureWorkerOptions {
  /** Probe over this connection; the worker gets its server's URL unless `servers` is given. */
  nc?: NatsConnection;
  /** Servers to probe and hand to the worker, all of them (default $NATS_URL, else nats://127.0.0.1:4222). */
  servers?: string | string[];
  /**
   * The model the worker must run: only a worker of this model counts as answering (checked on its model's
   * subjects and in its PING metadata), and a worker started here loads it (SPEAKERS_MODEL). Unset: any live
   * worker counts, and a started one loads the worker's default.
   */
  model?: ModelChoice;
  /**
   * live (default): a worker that consumes AUDIO and answers the generic subjects. replay: one that answers
   * only its model's subjects (WORKER_ROLE=replay), to run beside the live worker; needs `model`.
   */
  role?: "live" | "replay";
  /** Interpreter to run `-m speaker_worker` with; default the worker's .venv, else `uv run --frozen python`. */
  python?: string;
  /** The worker's project folder (default $SPEAKERS_WORKER_DIR, else services/embedding-worker here). */
  cwd?: string;
  /** Extra environment for the worker (MODEL_DEVICE, TORCH_THREADS, ...), over this process's own. */
  env?: Record<string, string | undefined>;
  /** Folders a started worker may read `extractFile` paths from (AUDIO_ROOTS). */
  audioRoots?: string[];
  /** How long a started worker may take to answer (default 300 s: a first ECAPA run downloads the model). */
  readyTimeoutMs?: number;
  /** How long the first PING waits for a running worker (default 1 s). */
  probeTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL (default 10 s). */
  stopGraceMs?: number;
  /** Every line the started worker logs (its stderr). */
  onLog?: (line: string) => void;
}

export interface WorkerHandle {
  /** True when this call started the worker; false when one already answered. */
  readonly started: boolean;
  /** The started process's id. */
  readonly pid: number | undefined;
  /** The PING answer that showed the service is up. */
  readonly ping: WorkerPing;
  /**
   * Resolves when a worker this call started exits, however it ends (stop(), a crash, SIGKILL): what a
   * supervisor waits on. Never resolves for a worker that was already running.
   */
  readonly exited: Promise<WorkerExit>;
  /** Ends a worker this call started (SIGTERM, then SIGKILL after the grace period); a no-op otherwise. */
  stop(): Promise<void>;
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const LOG_TAIL_LINES = 40;
const POLL_MS = 250;

/**
 * The original design's "automatic service startup on first use": if no `embedding` service answers on the
 * bus, start a local worker process, wait until it serves, and stop it on stop() or when this process exits.
 */
export async function ensureWorker(options: EnsureWorkerOptions = {}): Promise<WorkerHandle> {
  const servers = options.servers ?? process.env.NATS_URL ?? "nats://127.0.0.1:4222";
  let ownBus: Bus | undefined;
  let nc: NatsConnection;
  if (options.nc) {
    nc = options.nc;
  } else {
    // Quiet: this connection only probes; the caller's own logs say what happened.
    const logger = createLogger("embedding-client", { level: "warn" });
    ownBus = await connectBus({ servers, name: "embedding-client-ensure-worker", logger });
    nc = ownBus.nc;
  }
  const role = options.role ?? "live";
  if (role === "replay" && options.model === undefined) {
    throw new SpeakersError("INVALID_REQUEST", "A replay worker needs a model (ensureWorker({ model })).");
  }
  const model = modelOf(options.model);
  try {
    const probe = createEmbeddingClient(nc, {
      pingTimeoutMs: options.probeTimeoutMs ?? 1_000,
      ...(model === undefined ? {} : { model }),
    });
    const running = await probe.ping().catch(() => undefined);
    // A replay worker of the model serves replay needs, never live ones (it takes no audio events).
    const fits = running !== undefined && (role === "replay" || running.metadata.role !== "replay");
    if (running && fits) {
      return {
        started: false,
        pid: undefined,
        ping: running,
        exited: new Promise(() => {}),
        stop: async () => {},
      };
    }
    if (role === "live" && model !== undefined) {
      // Two live workers of different models would split the shared audio consumer between two spaces.
      const live = await createEmbeddingClient(nc, { pingTimeoutMs: options.probeTimeoutMs ?? 1_000 })
        .ping()
        .catch(() => undefined);
      if (live !== undefined) {
        throw new SpeakersError(
          "MODEL_MISMATCH",
          `A live worker of ${live.metadata.model_key} is running; a live worker of ${modelKey(model)} would mix two models.`,
          {
            hint: "Stop the running worker first, or start this model as a replay worker (role: replay).",
            details: { running: live.metadata.model_key, wanted: modelKey(model) },
          },
        );
      }
    }
    const natsUrl = options.servers !== undefined || !options.nc ? workerServers(servers) : serverUrl(nc);
    return await startWorker(nc, natsUrl, options, model, role);
  } finally {
    if (ownBus) await closeBus(ownBus);
  }
}

function modelOf(choice: ModelChoice | undefined) {
  if (choice === undefined) return undefined;
  return typeof choice === "string" ? resolveModel(choice) : { id: choice.id, revision: choice.revision };
}

/**
 * SPEAKERS_MODEL for a model: the worker loads models by name, and a `local-…` revision of a known model is
 * that model loaded from MODEL_SOURCE (the answering worker's key is checked against the wanted one).
 */
function workerModelName(model: { id: string; revision: string }): string {
  const local = model.revision.startsWith("local-");
  const name = Object.entries(MODELS).find(([, m]) =>
    local ? m.id === model.id : modelKey(m) === modelKey(model),
  )?.[0];
  if (name === undefined) {
    throw new SpeakersError("INVALID_REQUEST", `No worker can load ${modelKey(model)}.`, {
      details: { model: modelKey(model) },
    });
  }
  return name;
}

async function startWorker(
  nc: NatsConnection,
  natsUrl: string,
  options: EnsureWorkerOptions,
  model: { id: string; revision: string } | undefined,
  role: "live" | "replay",
): Promise<WorkerHandle> {
  const { command, args, cwd } = workerCommand({
    ...(options.python === undefined ? {} : { python: options.python }),
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    NATS_URL: natsUrl,
    // The worker exits if this process dies without stopping it (SIGKILL leaves no exit hook to run).
    SPEAKERS_EXIT_WITH_PARENT: "1",
    PYTHONUNBUFFERED: "1",
  };
  if (model) env.SPEAKERS_MODEL = workerModelName(model);
  env.WORKER_ROLE = role;
  if (options.audioRoots) env.AUDIO_ROOTS = options.audioRoots.join(":");

  const child = spawn(command, args, { cwd, env, stdio: ["ignore", "ignore", "pipe"] });
  const tail: string[] = [];
  let spawnError: Error | undefined;
  child.once("error", (err) => {
    spawnError = err;
  });
  let partial = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString("utf8")).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      tail.push(line);
      if (tail.length > LOG_TAIL_LINES) tail.shift();
      options.onLog?.(line);
    }
  });
  const exited: Promise<WorkerExit> = once(child, "exit").then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const unregister = onProcessExit(() => {
    child.kill("SIGTERM");
  });
  const stop = async (): Promise<void> => {
    unregister();
    await stopProcess(child, options.stopGraceMs ?? 10_000);
  };

  try {
    const ping = await waitReady(nc, model, child, exited, options.readyTimeoutMs ?? 300_000, () => {
      if (spawnError) return `could not run ${command}: ${spawnError.message}`;
      return tail.concat(partial ? [partial] : []).join("\n");
    });
    return { started: true, pid: child.pid, ping, exited, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Ready means PING answers and an endpoint does too (the framework subscribes PING before endpoints). */
async function waitReady(
  nc: NatsConnection,
  model: { id: string; revision: string } | undefined,
  child: ChildProcess,
  exited: Promise<WorkerExit>,
  timeoutMs: number,
  log: () => string,
): Promise<WorkerPing> {
  // Bound to the model, so `models()` also proves the worker that answers runs it (MODEL_MISMATCH otherwise).
  const client = createEmbeddingClient(nc, {
    pingTimeoutMs: 1_000,
    timeoutMs: 2_000,
    ...(model === undefined ? {} : { model }),
  });
  const deadline = Date.now() + timeoutMs;
  let gone: WorkerExit | undefined;
  void exited.then((e) => {
    gone = e;
  });
  for (;;) {
    if (gone || child.exitCode !== null) {
      await exited;
      throw new SpeakersError(
        "WORKER_UNAVAILABLE",
        `The embedding worker exited (code ${gone?.code ?? child.exitCode}, signal ${gone?.signal ?? null}) before it was ready.\n${log()}`,
        { details: { log: log() } },
      );
    }
    if (Date.now() > deadline) {
      throw new SpeakersError(
        "WORKER_UNAVAILABLE",
        `The embedding worker was not ready within ${timeoutMs} ms.`,
        {
          details: { log: log() },
        },
      );
    }
    try {
      const ping = await client.ping();
      await client.models();
      return ping;
    } catch (err) {
      if (err instanceof SpeakersError && err.code === "MODEL_MISMATCH") throw err;
      await Promise.race([sleep(POLL_MS), exited]);
    }
  }
}

/**
 * NATS_URL for the worker: every server, comma-separated (the worker splits it), so a worker started while
 * one cluster node is down still connects through another.
 */
function workerServers(servers: string | string[]): string {
  const list = (Array.isArray(servers) ? servers : servers.split(","))
    .map((s) => s.trim())
    .filter((s) => s !== "");
  return list.map((s) => (s.includes("://") ? s : `nats://${s}`)).join(",");
}

function serverUrl(nc: NatsConnection): string {
  return `nats://${nc.getServer()}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
