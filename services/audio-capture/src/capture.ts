import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Bus, Logger } from "@speakers/bus";
import { type BusHealth, watchBusHealth } from "./bus-health.js";
import type { CaptureConfig } from "./config.js";
import { createFolderWatcher, type FolderWatcher } from "./folder-watcher.js";
import { createHttpHandler } from "./http-routes.js";

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
export function createCapture(deps: { bus: Bus; config: CaptureConfig; logger?: Logger }): Capture {
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
  let server: Server | undefined;
  let url: string | undefined;

  return {
    health,
    watcher,
    get url() {
      return url;
    },
    async listen() {
      if (config.http) {
        server = createServer(
          createHttpHandler({
            bus: deps.bus,
            health,
            limits: config.limits,
            logger,
            retryAfterS: config.http.retryAfterS,
            maxInFlight: config.http.maxInFlight,
          }),
        );
        server.listen(config.http.port, config.http.host);
        await once(server, "listening");
        const address = server.address() as AddressInfo;
        url = `http://${address.address}:${address.port}`;
        logger.info({ url }, "audio capture listening");
      }
      if (watcher && config.watch) {
        await watcher.start();
        logger.info({ dir: config.watch.dir }, "watching folder");
      }
    },
    async close() {
      await watcher?.stop();
      if (server) {
        const closed = once(server, "close");
        server.close();
        server.closeIdleConnections();
        await closed;
      }
      health.stop();
    },
  };
}
