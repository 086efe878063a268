import { type Bus, closeBus, connectBus, createLogger, provision } from "@speakers/bus";
import { type NatsServer, startNatsServer } from "@speakers/nats-testing";

export interface TestBus {
  server: NatsServer;
  bus: Bus;
  stop(): Promise<void>;
}

/** A real nats-server with the system's topology provisioned, and a connected bus. Quiet unless LOG_LEVEL. */
export async function startTestBus(name: string): Promise<TestBus> {
  const server = await startNatsServer();
  const bus = await connectBus({
    servers: server.url,
    name,
    logger: createLogger(name, { level: process.env.LOG_LEVEL ?? "silent" }),
    connection: { reconnectTimeWait: 100, reconnectJitter: 50 },
  });
  await provision(bus);
  return {
    server,
    bus,
    async stop() {
      await closeBus(bus).catch(() => {});
      await server.stop();
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(50);
  }
}
