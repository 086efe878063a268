/**
 * createStack composes the whole product: nats-server (embedded unless NATS_URL is given), the streams, the
 * embedding worker and each plugin as supervised child processes, the registry and HTTP capture in this one.
 * A child that dies is restarted with back-off; health() says what runs. Nothing starts until start().
 */
import { createCapture, DEFAULT_LIMITS } from "@speakers/audio-capture";
import {
  type Bus,
  closeBus,
  connectBus,
  createLogger,
  defaultTopology,
  type Logger,
  provision,
} from "@speakers/bus";
import { createConsole } from "@speakers/console";
import {
  announceStack,
  type Credentials,
  type EmbeddedUser,
  ensureCredentials,
  type PartHealth,
  type Supervised,
  startEmbeddedNats,
  supervise,
  urlAs,
} from "@speakers/runtime";
import { createRegistry } from "@speakers/speaker-registry";
import { createWyomingBridge } from "@speakers/wyoming-bridge";
import type { StackConfig } from "./config.js";
import { type PluginProcess, startPluginProcess } from "./plugin-process.js";
import { startWorker } from "./worker.js";

export interface StackUrls {
  nats: string;
  /** `http://host:port` of the capture service. */
  capture: string;
  /** Embedded mode only: where JetStream keeps its files. */
  natsStore?: string;
  /** The web console's URL, when the config asks for one. */
  console?: string;
}

export interface StackDeps {
  logger?: Logger;
  /** The plugin processes to run (main passes presence, unknown-voices and, with MQTT_URL, home-assistant). */
  plugins?: readonly PluginProcess[];
  /** Raw config per plugin name. */
  pluginConfig?: Record<string, unknown>;
  /** Back-off of restarts (tests shorten it). */
  restartBackoff?: { initialMs?: number; maxMs?: number };
  /**
   * Called after the stack stopped itself because a part it cannot run without (the embedded nats-server)
   * could not be restarted; main exits non-zero.
   */
  onFatal?: (reason: Error) => void;
}

/** The plugins that run, each in its own process, and those whose start failed inside their process. */
export interface StackPlugins {
  running: Array<{ name: string; pid: number | undefined }>;
  failed: Array<{ name: string; code: string; message: string }>;
}

/**
 * The stack's view of its parts: ready when every supervised part runs. This is what HTTP capture's /readyz
 * may add to its own bus check (createCapture's deps), so a dead worker or plugin shows there.
 */
export interface StackHealth {
  ready: boolean;
  parts: PartHealth[];
}

export interface Stack {
  /** Starts every part in dependency order; a part that fails stops the ones already started. */
  start(): Promise<StackUrls>;
  /** Stops in reverse order: no new audio, plugins, registry, worker, drain, nats-server. Idempotent. */
  stop(): Promise<void>;
  readonly urls: StackUrls | undefined;
  /** The stack's own connection, once started (the demo and tests use it to watch and enroll). */
  readonly bus: Bus;
  readonly plugins: StackPlugins | undefined;
  /** Each supervised part (nats-server when embedded, worker, each plugin): up, pid, restarts, last exit. */
  health(): StackHealth;
}

type Step = { name: string; stop: () => Promise<unknown> };

export function createStack(config: StackConfig, deps: StackDeps = {}): Stack {
  const logger = deps.logger ?? createLogger("stack");
  let bus: Bus | undefined;
  let urls: StackUrls | undefined;
  let plugins: StackPlugins | undefined;
  const supervised: Supervised[] = [];
  const backoff = deps.restartBackoff ?? {};
  const health = (): StackHealth => {
    const parts = supervised.map((s) => s.health);
    return { ready: parts.length > 0 && parts.every((p) => p.up), parts };
  };
  // What has started, newest last; stop() unwinds it.
  const started: Step[] = [];
  let stopping: Promise<void> | undefined;

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      while (started.length > 0) {
        const step = started.pop() as Step;
        try {
          await step.stop();
          logger.debug({ part: step.name }, "stopped");
        } catch (err) {
          logger.warn({ err, part: step.name }, "stop step failed");
        }
      }
      logger.info("stack stopped");
    })();
    return stopping;
  };

  const start = async (): Promise<StackUrls> => {
    try {
      let natsUrl = config.natsUrl;
      let natsStore: string | undefined;
      // Embedded: every part logs in as its own least-privilege user (deploy/nats/auth.conf).
      const credentials: Credentials | undefined =
        natsUrl === undefined ? ensureCredentials(config.dataDir) : undefined;
      if (natsUrl === undefined) {
        let port = config.natsPort;
        let first = true;
        const nats = await supervise({
          name: "nats-server",
          logger,
          backoff,
          // The same store and port again, so every connection (worker, plugins, CLI) reconnects by itself.
          start: async () => {
            const server = await startEmbeddedNats({
              dataDir: config.dataDir,
              port,
              logger,
              ...(credentials ? { credentials } : {}),
            });
            port = server.port;
            natsStore = server.storeDir;
            natsUrl = server.url;
            if (first) {
              logger.info(
                { url: natsUrl, store: natsStore, childPid: server.pid },
                "embedded nats-server started",
              );
            }
            first = false;
            return { pid: server.pid, ended: server.ended, stop: () => server.stop() };
          },
          maxFailedRestarts: 5,
          onGiveUp: (reason) => {
            logger.fatal(
              { err: reason },
              "the embedded nats-server died and could not be restarted on its store; stopping the stack",
            );
            void stop().then(() => deps.onFatal?.(reason));
          },
        });
        supervised.push(nats);
        started.push({ name: "nats-server", stop: () => nats.stop() });
      }
      if (natsUrl === undefined) throw new Error("unreachable: the embedded nats-server gave no URL");
      const plainUrl = natsUrl;
      const as = (user: EmbeddedUser) => urlAs(plainUrl, user, credentials);
      // The stack's own connection provisions, watches and enrolls (the demo, tests): the admin's.
      const b = await connectBus({ servers: as("admin"), name: "speakers-stack", logger });
      bus = b;
      started.push({ name: "bus", stop: () => closeBus(b) });
      await provision(b, defaultTopology(config.audioRetention));
      const connectAs = async (user: EmbeddedUser, name: string) => {
        if (credentials === undefined) return b;
        const own = await connectBus({ servers: as(user), name, logger });
        started.push({ name: `${name} connection`, stop: () => closeBus(own) });
        return own;
      };

      const workerUrl = as("worker");
      const worker = await supervise({
        name: "worker",
        logger,
        backoff,
        start: () => startWorker({ nc: b.nc, natsUrl: workerUrl, model: config.model, logger }),
      });
      supervised.push(worker);
      started.push({ name: "worker", stop: () => worker.stop() });

      const registryBus = await connectAs("registry", "speakers-stack-registry");
      const registry = createRegistry({ bus: registryBus, logger: logger.child({ component: "registry" }) });
      await registry.start();
      started.push({ name: "registry", stop: () => registry.stop() });

      // Side by side, so one slow start does not hold back the others; all are stopped together.
      const failed: StackPlugins["failed"] = [];
      const children = await Promise.allSettled(
        (deps.plugins ?? []).map((spec) =>
          supervise({
            name: `plugin ${spec.name}`,
            logger,
            backoff,
            start: async () => {
              const child = await startPluginProcess(spec, {
                natsUrl: as(pluginUser(spec.name)),
                config: deps.pluginConfig?.[spec.name],
                logger,
              });
              failed.push(...child.ready.failed.filter((f) => !failed.some((g) => g.name === f.name)));
              return child;
            },
          }),
        ),
      );
      const running = children.flatMap((c) => (c.status === "fulfilled" ? [c.value] : []));
      supervised.push(...running);
      started.push({ name: "plugins", stop: () => Promise.all(running.map((r) => r.stop())) });
      const refused = children.find((c) => c.status === "rejected");
      if (refused) throw refused.reason;
      plugins = {
        get running() {
          return running.map((r, i) => ({ name: (deps.plugins ?? [])[i]?.name ?? "?", pid: r.health.pid }));
        },
        failed,
      };

      const captureBus = await connectAs("capture", "speakers-stack-capture");
      const capture = createCapture({
        bus: captureBus,
        logger: logger.child({ component: "capture" }),
        config: {
          http: { ...config.http, retryAfterS: 1, maxInFlight: 32 },
          watch: null,
          limits: DEFAULT_LIMITS,
        },
      });
      await capture.listen();
      // Capture goes first on stop: no new audio while the rest drains.
      started.push({ name: "capture", stop: () => capture.close() });

      if (config.wyoming) {
        const wyomingBus = await connectAs("wyoming", "speakers-stack-wyoming");
        const bridge = createWyomingBridge({
          bus: wyomingBus,
          config: config.wyoming,
          logger: logger.child({ component: "wyoming" }),
        });
        await bridge.start();
        started.push({ name: "wyoming-bridge", stop: () => bridge.stop() });
      }

      let consoleUrl: string | undefined;
      if (config.console !== undefined) {
        // The console is the household's operator page (erase, enroll, name voices): it acts with the stack's
        // own admin connection, and is reachable only from loopback or behind SPEAKERS_CONSOLE_TOKEN.
        const web = createConsole({
          bus: b,
          config: config.console,
          logger: logger.child({ component: "console" }),
        });
        consoleUrl = await web.listen();
        started.push({ name: "console", stop: () => web.close() });
      }

      if (natsStore !== undefined) {
        // Now that the worker and registry answer, `speakers` commands on this data folder join this stack
        // instead of starting a second server on its store. Removed first on stop, before anything stops.
        // Its URL carries no password: a command logs in as admin from credentials.json beside it.
        const withdraw = announceStack(config.dataDir, { url: natsUrl, pid: process.pid });
        started.push({ name: "stack.json", stop: async () => withdraw() });
      }
      urls = {
        nats: natsUrl,
        capture: capture.url as string,
        ...(natsStore ? { natsStore } : {}),
        ...(consoleUrl ? { console: consoleUrl } : {}),
      };
      return urls;
    } catch (err) {
      await stop();
      throw err;
    }
  };

  return {
    start,
    stop,
    get urls() {
      return urls;
    },
    get bus() {
      if (!bus) throw new Error("the stack is not started");
      return bus;
    },
    get plugins() {
      return plugins;
    },
    health,
  };
}

/** The NATS user of a plugin: auth.conf gives plugins with state or endpoints their own, the rest `plugin`. */
function pluginUser(name: string): EmbeddedUser {
  return name === "presence" || name === "unknown-voices" ? name : "plugin";
}
