/**
 * createStack composes the whole product in one process: nats-server (embedded unless NATS_URL is given), the
 * streams, the embedding worker, the registry, HTTP capture and the plugins. Nothing starts until start().
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
import { announceStack, startEmbeddedNats } from "@speakers/cli";
import { createConsole } from "@speakers/console";
import { type AnyPlugin, type RunningPlugins, runPlugins } from "@speakers/plugin-sdk";
import { createRegistry } from "@speakers/speaker-registry";
import type { StackConfig } from "./config.js";
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
  /** The plugins to run (main passes presence, unknown-voices and, with MQTT_URL, home-assistant). */
  plugins?: readonly AnyPlugin[];
  /** Raw config per plugin name. */
  pluginConfig?: Record<string, unknown>;
}

export interface Stack {
  /** Starts every part in dependency order; a part that fails stops the ones already started. */
  start(): Promise<StackUrls>;
  /** Stops in reverse order: no new audio, plugins, registry, worker, drain, nats-server. Idempotent. */
  stop(): Promise<void>;
  readonly urls: StackUrls | undefined;
  /** The stack's own connection, once started (the demo and tests use it to watch and enroll). */
  readonly bus: Bus;
  readonly plugins: RunningPlugins | undefined;
}

type Step = { name: string; stop: () => Promise<unknown> };

export function createStack(config: StackConfig, deps: StackDeps = {}): Stack {
  const logger = deps.logger ?? createLogger("stack");
  let bus: Bus | undefined;
  let urls: StackUrls | undefined;
  let plugins: RunningPlugins | undefined;
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
      if (natsUrl === undefined) {
        const server = await startEmbeddedNats({ dataDir: config.dataDir, port: config.natsPort, logger });
        started.push({ name: "nats-server", stop: () => server.stop() });
        natsStore = server.storeDir;
        natsUrl = server.url;
        logger.info({ url: natsUrl, store: natsStore, childPid: server.pid }, "embedded nats-server started");
      }
      const b = await connectBus({ servers: natsUrl, name: "speakers-stack", logger });
      bus = b;
      started.push({ name: "bus", stop: () => closeBus(b) });
      await provision(b, defaultTopology(config.audioRetention));

      const worker = await startWorker({ nc: b.nc, natsUrl, model: config.model, logger });
      started.push({ name: "worker", stop: () => worker.stop() });

      const registry = createRegistry({ bus: b, logger: logger.child({ component: "registry" }) });
      await registry.start();
      started.push({ name: "registry", stop: () => registry.stop() });

      const running = await runPlugins(b, deps.plugins ?? [], {
        logger,
        ...(deps.pluginConfig ? { config: deps.pluginConfig } : {}),
      });
      plugins = running;
      started.push({ name: "plugins", stop: () => running.stop() });

      const capture = createCapture({
        bus: b,
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

      let consoleUrl: string | undefined;
      if (config.console !== undefined) {
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
  };
}
