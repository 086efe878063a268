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
  splitServerCredentials,
} from "@speakers/bus";
import { defaultWorkerDir, ensureWorker } from "@speakers/embedding-client";
import { audioRetentionFromEnv, KV_BUCKETS, MODELS, modelKey } from "@speakers/events";
import {
  type Credentials,
  ensureCredentials,
  logWorkerLine,
  readCredentials,
  runningStack,
  startEmbeddedNats,
  stopOnSignal,
  urlAs,
} from "@speakers/runtime";
import { policyOverridesFromEnv } from "@speakers/scoring";
import {
  createRegistry,
  enrollmentPolicyFromEnv,
  type Registry,
  readLiveModel,
} from "@speakers/speaker-registry";

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
  /** The server's URL, without credentials (safe to print). */
  readonly url: string;
  /**
   * NATS_URL for a worker this command starts (a replay worker): with the `worker` user's login when the
   * server runs the embedded users; undefined to let ensureWorker use the connection's server.
   */
  readonly workerServers?: string | undefined;
  readonly bus: Bus;
  /** True when this process started the server, worker and registry; false for NATS_URL or a running stack. */
  readonly embedded: boolean;
  /** Idempotent. */
  stop(): Promise<void>;
}

export async function startEmbeddedStack(options: EmbeddedStackOptions = {}): Promise<EmbeddedStack> {
  const env = options.env ?? process.env;
  // Logs (the worker's lines among them) go to stderr: stdout is the command's output, JSON with --json.
  const logger =
    options.logger ??
    createLogger("speakers-cli", { level: env.LOG_LEVEL ?? "warn", destination: process.stderr });
  const external = options.isolated ? undefined : (options.natsUrl ?? env.NATS_URL);
  if (external) return await joined(external, external, undefined, logger);
  const dataDir = options.isolated ? undefined : resolve(options.dataDir ?? env.SPEAKERS_DATA_DIR ?? "data");
  const running = dataDir === undefined ? undefined : runningStack(dataDir);
  if (running && dataDir !== undefined) {
    // Its worker and registry serve this command; a failed connect means the file outlived its stack.
    // The stack's server runs with users: this command is its admin (credentials.json beside stack.json).
    const credentials = readCredentials(dataDir);
    const stack = await joined(running.url, running.url, credentials, logger).catch(() => undefined);
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
    // The same users as `pnpm start` on this store: the command as admin, worker and registry as themselves.
    const credentials = ensureCredentials(dir);
    // A free port: the command talks to it in-process, and a `pnpm start` may hold 4222.
    const server = await startEmbeddedNats({ dataDir: dir, port: 0, logger, credentials });
    stops.push(() => server.stop());
    /** A connection as one of the stack's users, closed when the stack stops. */
    const connectAs = async (user: "admin" | "registry", name: string) => {
      const connected = await connectBus({ servers: urlAs(server.url, user, credentials), name, logger });
      stops.push(() => closeBus(connected));
      return connected;
    };
    const bus = await connectAs("admin", "speakers-cli");
    // SPEAKERS_AUDIO_MAX_AGE / _MAX_BYTES: how much history is kept, and so how far a replay reaches.
    await provision(bus, defaultTopology(audioRetentionFromEnv(env)));
    // The live worker must run the live model (`speakers model use` may have switched it in this data folder).
    const model = options.model ?? (await storedLiveModel(bus)) ?? env.SPEAKERS_MODEL;
    const workerLog = logger.child({ component: "worker" });
    const worker = await ensureWorker({
      nc: bus.nc,
      servers: urlAs(server.url, "worker", credentials),
      cwd: defaultWorkerDir(env),
      env,
      ...(model ? { model } : {}),
      ...(options.audioRoots === undefined ? {} : { audioRoots: options.audioRoots }),
      // At the CLI's level (warn by default): a worker that fails to load says why. Its drain on stop ends
      // with a disconnect warning, expected then.
      onLog: (line) => logWorkerLine(workerLog, line, stopping !== undefined),
    });
    stops.push(() => worker.stop());
    const registryBus = await connectAs("registry", "speakers-cli-registry");
    const registry: Registry = createRegistry({
      bus: registryBus,
      logger,
      policyOverrides: policyOverridesFromEnv(env),
      enrollment: enrollmentPolicyFromEnv(env),
    });
    await registry.start();
    stops.push(() => registry.stop());
    return {
      url: server.url,
      workerServers: urlAs(server.url, "worker", credentials),
      bus,
      embedded: true,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** A running server: NATS_URL as given, or a `pnpm start` stack whose users' passwords this folder holds. */
async function joined(
  servers: string,
  url: string,
  credentials: Partial<Credentials> | undefined,
  logger: Logger,
): Promise<EmbeddedStack> {
  const login = credentials?.admin === undefined ? servers : urlAs(servers, "admin", credentials);
  const bus = await connectBus({ servers: login, name: "speakers-cli", logger });
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= closeBus(bus);
    return stopping;
  };
  const workerServers = credentials?.worker === undefined ? undefined : urlAs(url, "worker", credentials);
  return { url: splitServerCredentials(url).servers.join(","), workerServers, bus, embedded: false, stop };
}

/** The live model's name (`ecapa`, `ge2e`) if this store has one. */
async function storedLiveModel(bus: Bus): Promise<string | undefined> {
  const state = await new Kvm(bus.js).open(KV_BUCKETS.registryState.name);
  const live = await readLiveModel(state);
  if (live === undefined) return undefined;
  return Object.entries(MODELS).find(([, m]) => modelKey(m) === modelKey(live))?.[0];
}
