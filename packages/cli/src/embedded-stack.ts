/**
 * What a `speakers` command runs against. With NATS_URL set, the running system. Without it, the `pnpm start`
 * stack of the data folder when one runs (its `stack.json`); otherwise an embedded default: a local
 * nats-server with its store in the data folder, the worker, and the registry in-process, all stopped again
 * when the command ends.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Kvm } from "@nats-io/kv";
import {
  type Bus,
  closeBus,
  connectBus,
  createLogger,
  defaultTopology,
  type Logger,
  provision,
} from "@speakers/bus";
import { defaultWorkerDir, ensureWorker } from "@speakers/embedding-client";
import { audioRetentionFromEnv, KV_BUCKETS, MODELS, modelKey } from "@speakers/events";
import { policyOverridesFromEnv } from "@speakers/scoring";
import {
  createRegistry,
  enrollmentPolicyFromEnv,
  type Registry,
  readLiveModel,
} from "@speakers/speaker-registry";
import { startEmbeddedNats } from "./embedded-nats.js";
import { runningStack } from "./running-stack.js";
import { stopOnSignal } from "./stop-on-signal.js";
import { logWorkerLine } from "./worker-log.js";

export interface EmbeddedStackOptions {
  /** Use this server instead of starting one (default $NATS_URL). */
  natsUrl?: string;
  /** Where the embedded server keeps its store (default $SPEAKERS_DATA_DIR, else ./data). */
  dataDir?: string;
  /** A throw-away server with a temporary store, whatever NATS_URL says (eval's fresh registry). */
  isolated?: boolean;
  /** Folders the embedded worker may read by path. */
  audioRoots?: string[];
  /** Embedded worker model (ecapa or ge2e; default the data folder's live model, else $SPEAKERS_MODEL). */
  model?: string;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
}

export interface EmbeddedStack {
  readonly url: string;
  readonly bus: Bus;
  /** True when this process started the server, worker and registry; false for NATS_URL or a running stack. */
  readonly embedded: boolean;
  /** Idempotent. */
  stop(): Promise<void>;
}

export async function startEmbeddedStack(options: EmbeddedStackOptions = {}): Promise<EmbeddedStack> {
  const env = options.env ?? process.env;
  const logger = options.logger ?? createLogger("speakers-cli", { level: env.LOG_LEVEL ?? "warn" });
  const external = options.isolated ? undefined : (options.natsUrl ?? env.NATS_URL);
  if (external) return await joined(external, logger);
  const dataDir = options.isolated ? undefined : resolve(options.dataDir ?? env.SPEAKERS_DATA_DIR ?? "data");
  const running = dataDir === undefined ? undefined : runningStack(dataDir);
  if (running) {
    // Its worker and registry serve this command; a failed connect means the file outlived its stack.
    const stack = await joined(running.url, logger).catch(() => undefined);
    if (stack) return stack;
    logger.warn({ url: running.url }, "the stack in stack.json does not answer; starting an embedded one");
  }

  const stops: (() => Promise<unknown>)[] = [];
  let stopping: Promise<void> | undefined;
  const stopAll = () => {
    stopping ??= (async () => {
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
    })();
    return stopping;
  };
  const release = stopOnSignal(stopAll);
  stops.push(async () => release());
  try {
    let dir = dataDir;
    if (dir === undefined) {
      const temp = mkdtempSync(join(tmpdir(), "speakers-isolated-"));
      stops.push(async () => rmSync(temp, { recursive: true, force: true }));
      dir = temp;
    }
    // A free port: the command talks to it in-process, and a `pnpm start` may hold 4222.
    const server = await startEmbeddedNats({ dataDir: dir, port: 0, logger });
    stops.push(() => server.stop());
    const bus = await connectBus({ servers: server.url, name: "speakers-cli", logger });
    stops.push(() => closeBus(bus));
    // SPEAKERS_AUDIO_MAX_AGE / _MAX_BYTES: how much history is kept, and so how far a replay reaches.
    await provision(bus, defaultTopology(audioRetentionFromEnv(env)));
    // The live worker must run the live model (`speakers model use` may have switched it in this data folder).
    const model = options.model ?? (await storedLiveModel(bus)) ?? env.SPEAKERS_MODEL;
    const workerLog = logger.child({ component: "worker" });
    const worker = await ensureWorker({
      nc: bus.nc,
      cwd: defaultWorkerDir(env),
      env,
      ...(model ? { model } : {}),
      ...(options.audioRoots === undefined ? {} : { audioRoots: options.audioRoots }),
      // At the CLI's level (warn by default): a worker that fails to load says why. Its drain on stop ends
      // with a disconnect warning, expected then.
      onLog: (line) => logWorkerLine(workerLog, line, stopping !== undefined),
    });
    stops.push(() => worker.stop());
    const registry: Registry = createRegistry({
      bus,
      logger,
      policyOverrides: policyOverridesFromEnv(env),
      enrollment: enrollmentPolicyFromEnv(env),
    });
    await registry.start();
    stops.push(() => registry.stop());
    return { url: server.url, bus, embedded: true, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function joined(url: string, logger: Logger): Promise<EmbeddedStack> {
  const bus = await connectBus({ servers: url, name: "speakers-cli", logger });
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= closeBus(bus);
    return stopping;
  };
  return { url, bus, embedded: false, stop };
}

/** The live model's name (`ecapa`, `ge2e`) if this store has one. */
async function storedLiveModel(bus: Bus): Promise<string | undefined> {
  const state = await new Kvm(bus.js).open(KV_BUCKETS.registryState.name);
  const live = await readLiveModel(state);
  if (live === undefined) return undefined;
  return Object.entries(MODELS).find(([, m]) => modelKey(m) === modelKey(live))?.[0];
}
