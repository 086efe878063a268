import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect, type NodeConnectionOptions } from "@nats-io/transport-node";
import { SpeakersError } from "@speakers/events";
import { createLogger, type Logger } from "./logger.js";

/** One connection and the JetStream handles built on it; every bus function takes this. */
export interface Bus {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly logger: Logger;
  /** The client name the server sees, also used as the default CloudEvents source. */
  readonly name: string;
}

export interface ConnectBusOptions {
  servers: string | string[];
  /** Client name, shown in the server's connz and in logs. */
  name: string;
  logger?: Logger;
  /** Credentials and other client options (user/pass, token, tls...), passed through. */
  connection?: Omit<NodeConnectionOptions, "servers" | "name">;
}

/**
 * Connects and keeps reconnecting forever: a home server restarting must never take a service down.
 * The first connect fails fast with BUS_UNAVAILABLE so a misconfigured URL is reported at start.
 */
export async function connectBus(options: ConnectBusOptions): Promise<Bus> {
  const logger = options.logger ?? createLogger(options.name);
  let nc: NatsConnection;
  try {
    nc = await connect({
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1_000,
      reconnectJitter: 500,
      ...options.connection,
      servers: options.servers,
      name: options.name,
    });
  } catch (err) {
    throw new SpeakersError(
      "BUS_UNAVAILABLE",
      `cannot connect to ${String(options.servers)}: ${errorText(err)}`,
      {
        cause: err,
      },
    );
  }
  void logStatus(nc, logger);
  logger.info({ server: nc.getServer() }, "connected to NATS");
  return { nc, js: jetstream(nc), jsm: await jetstreamManager(nc), logger, name: options.name };
}

async function logStatus(nc: NatsConnection, logger: Logger): Promise<void> {
  for await (const s of nc.status()) {
    switch (s.type) {
      case "disconnect":
        logger.warn({ server: s.server }, "disconnected from NATS");
        break;
      case "reconnecting":
        logger.debug("reconnecting to NATS");
        break;
      case "reconnect":
        logger.info({ server: s.server }, "reconnected to NATS");
        break;
      case "error":
        logger.error({ err: s.error }, "NATS server error");
        break;
      case "ldm":
        logger.warn({ server: s.server }, "NATS server entering lame duck mode");
        break;
      case "slowConsumer":
        logger.warn({ pending: s.pending, subject: s.sub.getSubject() }, "slow consumer");
        break;
      default:
        break;
    }
  }
}

/** Drains subscriptions and flushes pending publishes, then closes; safe to call twice. */
export async function closeBus(bus: Bus): Promise<void> {
  if (bus.nc.isClosed()) return;
  if (!bus.nc.isDraining()) await bus.nc.drain();
  await bus.nc.closed();
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
