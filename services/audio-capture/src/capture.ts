import type { Bus, Logger } from "@speakers/bus";
import type { FastifyInstance } from "fastify";
import { type BusHealth, watchBusHealth } from "./bus-health.js";
import type { CaptureConfig } from "./config.js";
import { createFolderWatcher, type FolderWatcher } from "./folder-watcher.js";
import { createHttpApp } from "./http-app.js";
import { captureReadiness, type Readiness } from "./readiness.js";

export interface Capture {
  /** Starts the HTTP server and the folder watcher (whichever the config enables). */
  listen(): Promise<void>;
  /** `http://host:port` once listening, for logs and tests. */
  readonly url: string | undefined;
  readonly health: BusHealth;
  readonly watcher: FolderWatcher | undefined;
  /** Stops taking uploads, finishes in-flight ones, stops the watcher. The bus is the caller's to close. */
  close(): Promise<void>;
}

/** Builds the service; nothing listens or polls until `listen()`. */
export function createCapture(deps: {
  bus: Bus;
  config: CaptureConfig;
  logger?: Logger;
  /** What `/readyz` checks; default: the bus and a live embedding worker (config.readiness). */
  readiness?: Readiness;
}): Capture {
  const logger = deps.logger ?? deps.bus.logger;
  const { config } = deps;
  const health = watchBusHealth(deps.bus.nc);
  const watcher = config.watch
    ? createFolderWatcher(
        { bus: deps.bus, health, logger },
        {
          dir: config.watch.dir,
          deviceId: config.watch.deviceId,
          ...(config.watch.room === undefined ? {} : { room: config.watch.room }),
          pollMs: config.watch.pollMs,
          stableMs: config.watch.stableMs,
          limits: config.limits,
        },
      )
    : undefined;
  let app: FastifyInstance | undefined;
  let url: string | undefined;

  return {
    health,
    watcher,
    get url() {
      return url;
    },
    async listen() {
      if (config.http) {
        app = createHttpApp({
          bus: deps.bus,
          health,
          readiness: deps.readiness ?? captureReadiness({ health, bus: deps.bus }, config.readiness),
          limits: config.limits,
          logger,
          retryAfterS: config.http.retryAfterS,
          maxInFlight: config.http.maxInFlight,
          ...(config.http.timeouts === undefined ? {} : { timeouts: config.http.timeouts }),
        });
        await app.listen({ port: config.http.port, host: config.http.host });
        const address = app.server.address();
        url =
          typeof address === "object" && address !== null
            ? `http://${address.address}:${address.port}`
            : undefined;
        logger.info({ url }, "audio capture listening");
      }
      if (watcher && config.watch) {
        await watcher.start();
        logger.info({ dir: config.watch.dir }, "watching folder");
      }
    },
    async close() {
      await watcher?.stop();
      // Waits for in-flight uploads; idle kept-alive sockets are closed at once.
      await app?.close();
      health.stop();
    },
  };
}
