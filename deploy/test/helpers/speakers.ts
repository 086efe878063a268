import { type Bus, closeBus, connectBus, createLogger } from "@speakers/bus";
import { provisionCommand } from "@speakers/cli";
import type { SpeakerIdentified } from "@speakers/events";
import type { Passwords, User } from "./nats-users.js";

/** NATS_URL as docker-compose writes it for a service: every server, each with the user's credentials. */
export function natsUrl(urls: string | string[], user: User, passwords: Passwords): string {
  return [urls]
    .flat()
    .map((u) => u.replace("nats://", `nats://${user}:${passwords[user]}@`))
    .join(",");
}

/** The services' own way in: connectBus with NATS_URL (credentials and inbox prefix derived from it). */
export async function busAs(
  urls: string | string[],
  user: User,
  passwords: Passwords,
  options: { level?: string } = {},
): Promise<Bus> {
  return connectBus({
    servers: natsUrl(urls, user, passwords),
    name: `deploy-test-${user}`,
    logger: createLogger(`deploy-test-${user}`, { level: options.level ?? process.env.LOG_LEVEL ?? "warn" }),
    // a cluster test kills a node: keep trying the others rather than give up
    connection: { maxReconnectAttempts: -1, reconnectTimeWait: 250 },
  });
}

/** `speakers provision` as the operator runs it: the admin user creates every stream, bucket and consumer. */
export async function provisionAsAdmin(url: string, passwords: Passwords): Promise<void> {
  await provisionCommand(
    { out: () => {}, err: () => {} },
    { env: { NATS_URL: natsUrl(url, "admin", passwords), LOG_LEVEL: "silent" } },
  );
}

/**
 * Every `speaker.identified` seen on core NATS from now on (a JetStream publish reaches plain subscribers
 * too), grouped by the audio event it identifies, so a test can count the identifications of each clip.
 */
export function watchIdentified(bus: Bus) {
  const bySource = new Map<string, SpeakerIdentified[]>();
  const sub = bus.nc.subscribe("speaker.identified");
  void (async () => {
    for await (const m of sub) {
      const event = m.json<SpeakerIdentified>();
      bySource.set(event.sourceEventId, [...(bySource.get(event.sourceEventId) ?? []), event]);
    }
  })();
  return { bySource, stop: () => sub.unsubscribe() };
}

/** What every service does around a write while a cluster elects a new leader: try again, a few times. */
export async function retried<T>(write: () => Promise<T>, attempts = 40, pauseMs = 250): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (attempt >= attempts) throw err;
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
}

/** A test file's teardown: each stop in turn (services before the worker they need), then the buses, then the server. */
export async function stopAll(
  stops: (() => Promise<unknown> | undefined)[],
  buses: (Bus | undefined)[],
  server: { stop(): Promise<unknown> } | undefined,
): Promise<void> {
  for (const stop of stops) await stop();
  await Promise.all(buses.filter(Boolean).map((b) => closeBus(b as Bus).catch(() => {})));
  await server?.stop();
}
