/**
 * What a `speakers` command runs against. With NATS_URL set, the running system. Without it, an embedded
 * default: a local nats-server with its store in a data folder, the worker, and the registry in-process,
 * all stopped again when the command ends. Reusable by `pnpm start`/`pnpm demo`.
 */
import { mkdirSync } from "node:fs";
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
import { type NatsServer, startNatsServer } from "@speakers/nats-testing";
import {
  createRegistry,
  enrollmentPolicyFromEnv,
  policyOverridesFromEnv,
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
  readonly url: string;
  readonly bus: Bus;
  /** True when this process started the server, worker and registry. */
  readonly embedded: boolean;
  stop(): Promise<void>;
}

/** The embedded server's payload limit: enrollment and identify send whole recordings. */
const EMBEDDED_MAX_PAYLOAD = "8MB";

export async function startEmbeddedStack(options: EmbeddedStackOptions = {}): Promise<EmbeddedStack> {
  const env = options.env ?? process.env;
  const logger = options.logger ?? createLogger("speakers-cli", { level: env.LOG_LEVEL ?? "warn" });
  const external = options.isolated ? undefined : (options.natsUrl ?? env.NATS_URL);
  if (external) {
    const bus = await connectBus({ servers: external, name: "speakers-cli", logger });
    return { url: external, bus, embedded: false, stop: () => closeBus(bus) };
  }

  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    let storeDir: string | undefined;
    if (!options.isolated) {
      storeDir = join(resolve(options.dataDir ?? env.SPEAKERS_DATA_DIR ?? "data"), "nats");
      mkdirSync(storeDir, { recursive: true });
    }
    const server: NatsServer = await startNatsServer({
      ...(storeDir === undefined ? {} : { storeDir }),
      configText: `max_payload: ${EMBEDDED_MAX_PAYLOAD}\n`,
    });
    stops.push(() => server.stop());
    const bus = await connectBus({ servers: server.url, name: "speakers-cli", logger });
    stops.push(() => closeBus(bus));
    // SPEAKERS_AUDIO_MAX_AGE / _MAX_BYTES: how much history is kept, and so how far a replay reaches.
    await provision(bus, defaultTopology(audioRetentionFromEnv(env)));
    // The live worker must run the live model (`speakers model use` may have switched it in this data folder).
    const model = options.model ?? (await storedLiveModel(bus)) ?? env.SPEAKERS_MODEL;
    const worker = await ensureWorker({
      nc: bus.nc,
      cwd: defaultWorkerDir(env),
      env,
      ...(model ? { model } : {}),
      ...(options.audioRoots === undefined ? {} : { audioRoots: options.audioRoots }),
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

/** The live model's name (`ecapa`, `ge2e`) if this store has one. */
async function storedLiveModel(bus: Bus): Promise<string | undefined> {
  const state = await new Kvm(bus.js).open(KV_BUCKETS.registryState.name);
  const live = await readLiveModel(state);
  if (live === undefined) return undefined;
  return Object.entries(MODELS).find(([, m]) => modelKey(m) === modelKey(live))?.[0];
}
