import { type Bus, closeBus, connectBus, createLogger, provision } from "@speakers/bus";
import { afterAll, beforeAll } from "vitest";
import { NatsTestingError } from "./errors.js";
import { type NatsServer, type StartNatsServerOptions, startNatsServer } from "./start-nats-server.js";

/** The part of a test server the bus needs: a NatsServer, or a NatsHandle of useNats. */
export interface TestServer {
  readonly url: string;
  stop(): Promise<void>;
}

export interface TestBus<S extends TestServer = NatsServer> {
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

export interface TestBusOptions extends StartNatsServerOptions {
  /**
   * Always start a local server, even when NATS_URL is set: for tests that restart or kill it, or give it a
   * config. Without it, NATS_URL (an existing server) is used as the README says.
   */
  local?: boolean;
}

/**
 * A real nats-server with the system's topology provisioned, and a bus that reconnects quickly: NATS_URL's
 * server when set (and `local` is not), else a fresh local one with a temp store.
 */
export async function startTestBus(name: string, options: TestBusOptions = {}): Promise<TestBus> {
  const { local, ...serverOptions } = options;
  const url = process.env.NATS_URL;
  const server = url && !local ? externalServer(url) : await startNatsServer(serverOptions);
  return connectTestBus(server, name);
}

/** NATS_URL's server as a NatsServer: stop() leaves it running, and it cannot be restarted from here. */
function externalServer(url: string): NatsServer {
  const refuse = async () => {
    throw new NatsTestingError(
      "NATS_SERVER_STOPPED",
      `${url} (NATS_URL) is not this test's to restart: start the test with local: true`,
    );
  };
  return {
    url,
    port: Number(new URL(url).port || 4222),
    monitorPort: 0,
    storeDir: "",
    configFile: undefined,
    pid: undefined,
    logTail: () => "",
    stop: async () => {},
    restart: refuse,
  };
}

/**
 * The boilerplate of a test file that needs a bus, as a fixture: a server and a provisioned bus are started
 * before the file's (or describe block's) tests and stopped after them. Read `t.bus`, `t.server` in tests.
 */
export function useTestBus(name: string, options: TestBusOptions = {}): TestBus {
  let current: TestBus | undefined;
  beforeAll(async () => {
    current = await startTestBus(name, options);
  });
  afterAll(async () => {
    await current?.stop();
  });
  const started = (): TestBus => {
    if (current === undefined) throw new Error(`useTestBus("${name}") is read before its beforeAll ran`);
    return current;
  };
  return {
    get server() {
      return started().server;
    },
    get bus() {
      return started().bus;
    },
    stop: () => started().stop(),
  };
}

/** A real nats-server for the file's (or describe block's) tests, stopped after them. */
export function useNatsServer(options: StartNatsServerOptions = {}): { readonly server: NatsServer } {
  let current: NatsServer | undefined;
  beforeAll(async () => {
    current = await startNatsServer(options);
  });
  afterAll(async () => {
    await current?.stop();
  });
  return {
    get server() {
      if (current === undefined) throw new Error("useNatsServer() is read before its beforeAll ran");
      return current;
    },
  };
}
