import { INSTALL_COMMAND, NatsTestingError } from "./errors.js";
import { findNatsServer } from "./find-nats-server.js";
import { type NatsServer, type StartNatsServerOptions, startNatsServer } from "./start-nats-server.js";

export type NatsSource = "env" | "binary" | "container";

export interface NatsHandle {
  readonly url: string;
  /** Where the server came from: NATS_URL, a local binary, or a testcontainers NATS container. */
  readonly source: NatsSource;
  /** The local server, when source is "binary" (restart() and storeDir live there). */
  readonly server: NatsServer | undefined;
  /** Stops what this handle started; a no-op for NATS_URL. */
  stop(): Promise<void>;
}

export interface UseNatsOptions extends StartNatsServerOptions {
  /** Environment to read NATS_URL, NATS_SERVER_BIN, HOME and PATH from (defaults to process.env). */
  env?: NodeJS.ProcessEnv;
  /** Image for the container fallback. */
  image?: string;
}

const DEFAULT_IMAGE = "nats:2.12.15";

/**
 * A JetStream server for a test, from the cheapest source available: NATS_URL (an existing server), a local
 * nats-server binary, or a container when a Docker engine is reachable. Otherwise the error says how to install.
 */
export async function useNats(options: UseNatsOptions = {}): Promise<NatsHandle> {
  const env = options.env ?? process.env;
  if (env.NATS_URL) {
    return { url: env.NATS_URL, source: "env", server: undefined, stop: async () => {} };
  }
  const binary = options.binary ?? findNatsServer({ env });
  if (binary) {
    const server = await startNatsServer({ ...options, binary });
    return { url: server.url, source: "binary", server, stop: () => server.stop() };
  }
  const container = await startContainer(options.image ?? DEFAULT_IMAGE);
  if (container) return container;
  throw new NatsTestingError(
    "NATS_SERVER_NOT_FOUND",
    `no NATS_URL, no nats-server binary ($NATS_SERVER_BIN, ~/.local/share/speakers/bin, PATH) and no reachable Docker engine. Install one with: ${INSTALL_COMMAND}`,
  );
}

/** Loaded lazily: testcontainers is heavy and only needed on machines without a binary. */
async function startContainer(image: string): Promise<NatsHandle | undefined> {
  const { getContainerRuntimeClient } = await import("testcontainers");
  try {
    await getContainerRuntimeClient();
  } catch {
    return undefined;
  }
  const { NatsContainer } = await import("@testcontainers/nats");
  try {
    const started = await new NatsContainer(image).withJetStream().start();
    const servers = started.getConnectionOptions().servers;
    const url = Array.isArray(servers) ? servers[0] : servers;
    if (!url) throw new Error("the container reported no client URL");
    return {
      url: url.includes("://") ? url : `nats://${url}`,
      source: "container",
      server: undefined,
      stop: async () => {
        await started.stop();
      },
    };
  } catch (err) {
    throw new NatsTestingError(
      "NATS_CONTAINER_FAILED",
      `could not start ${image}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}
