import {
  type Bus,
  connectBus,
  installShutdown,
  prepareTopology,
  provisionModeFromEnv,
  type TopologyNeeds,
} from "@speakers/bus";

/**
 * A service's `main.ts` in one call: connects to `$NATS_URL` (default nats://127.0.0.1:4222) as `name`, checks
 * or provisions the topology it needs, starts it, and on SIGINT/SIGTERM runs the returned stop, then drains.
 */
export async function runService(
  name: string,
  needs: TopologyNeeds,
  start: (bus: Bus) => Promise<() => Promise<void>>,
): Promise<void> {
  const bus = await connectBus({ servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222", name });
  await prepareTopology(bus, needs, { mode: provisionModeFromEnv() });
  const stop = await start(bus);
  installShutdown(bus, [stop]);
}
