import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect, type NodeConnectionOptions } from "@nats-io/transport-node";
import { SpeakersError } from "@speakers/events";
import { createLogger, type Logger } from "./logger.js";
import { inboxPrefixFor, splitServerCredentials } from "./server-credentials.js";

/** One connection and the JetStream handles built on it; every bus function takes this. */
export interface Bus {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly logger: Logger;
  /** The client name the server sees, also used as the default CloudEvents source. */
  readonly name: string;
  /** The NATS user it logged in as; undefined on a server without auth (dev, tests, embedded). */
  readonly user?: string;
}

export interface ConnectBusOptions {
  /** One URL, several (array or comma-separated); `user:pass@` in them is used as the login (see below). */
  servers: string | string[];
  /** Client name, shown in the server's connz and in logs. */
  name: string;
  logger?: Logger;
  /**
   * Credentials and other client options (user/pass, token, tls...), passed through. An explicit user/pass
   * wins over the URL's; inboxPrefix defaults to `_INBOX.<user>` when there is a user (deploy/nats/auth.conf).
   */
  connection?: Omit<NodeConnectionOptions, "servers" | "name">;
}

/**
 * Connects and keeps reconnecting forever: a home server restarting must never take a service down.
 * The first connect fails fast with BUS_UNAVAILABLE so a misconfigured URL is reported at start.
 */
export async function connectBus(options: ConnectBusOptions): Promise<Bus> {
  const logger = options.logger ?? createLogger(options.name);
  const fromUrl = splitServerCredentials(options.servers);
  const user = options.connection?.user ?? fromUrl.user;
  const pass = options.connection?.pass ?? fromUrl.pass;
  const inboxPrefix =
    options.connection?.inboxPrefix ?? (user === undefined ? undefined : inboxPrefixFor(user));
  // Only credential-free URLs go further: they appear in errors, logs and the client's status events.
  const where = fromUrl.servers.join(",");
  let nc: NatsConnection;
  try {
    nc = await connect({
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1_000,
      reconnectJitter: 500,
      ...options.connection,
      ...(user === undefined ? {} : { user }),
      ...(pass === undefined ? {} : { pass }),
      ...(inboxPrefix === undefined ? {} : { inboxPrefix }),
      servers: fromUrl.servers,
      name: options.name,
    });
  } catch (err) {
    throw new SpeakersError(
      "BUS_UNAVAILABLE",
      `cannot connect to ${where}${asUser(user)}: ${errorText(err)}`,
      {
        cause: err,
      },
    );
  }
  void logStatus(nc, logger);
  logger.info({ server: nc.getServer(), ...(user === undefined ? {} : { user }) }, "connected to NATS");
  return {
    nc,
    js: jetstream(nc),
    jsm: await jetstreamManager(nc),
    logger,
    name: options.name,
    ...(user === undefined ? {} : { user }),
  };
}

const asUser = (user: string | undefined): string => (user === undefined ? "" : ` as ${user}`);

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
