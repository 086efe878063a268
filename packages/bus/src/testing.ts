// Test-only helpers, exported as `@speakers/bus/testing` (not from the package root) so no service imports them by
// accident. The server is passed in rather than started here: starting one needs @speakers/nats-testing, and that
// test package must stay a devDependency of the bus (a runtime import would ship it, and testcontainers, with the bus).
import { type Bus, closeBus, connectBus } from "./connect.js";
import { createLogger } from "./logger.js";
import { provision } from "./provision.js";

/** The part of a test server the bus needs: structural, so @speakers/nats-testing's NatsServer fits. */
export interface TestServer {
  readonly url: string;
  stop(): Promise<void>;
}

export interface TestBus<S extends TestServer = TestServer> {
  server: S;
  bus: Bus;
  /** Closes the bus, then stops the server. */
  stop(): Promise<void>;
}

/** Connects a bus that reconnects quickly to `server` and provisions the system's topology. Quiet unless LOG_LEVEL. */
export async function connectTestBus<S extends TestServer>(server: S, name: string): Promise<TestBus<S>> {
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
