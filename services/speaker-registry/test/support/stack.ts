import { type Bus, call, closeBus, connectBus, createLogger, provision } from "@speakers/bus";
import type { EndpointDefinition, MessageDefinition, PayloadOf } from "@speakers/events";
import {
  type NatsServer,
  startNatsServer,
  startWorkerProcess,
  type WorkerProcess,
} from "@speakers/test-support";
import { createRegistry, type Registry } from "../../src/index.js";

/** A real nats-server, the real GE2E worker and a registry, as the service runs them. */
export interface Stack {
  server: NatsServer;
  bus: Bus;
  worker: WorkerProcess;
  registry: Registry;
  /** Replaces the registry with a fresh one (a restart: nothing kept in memory survives). */
  restartRegistry(): Promise<void>;
  call<Req extends MessageDefinition, Rep extends MessageDefinition>(
    subject: string,
    request: Req,
    payload: PayloadOf<Req>,
    reply: Rep,
    body?: Uint8Array,
  ): Promise<PayloadOf<Rep>>;
  /** Calls one endpoint of the contract's table (REGISTRY_ENDPOINTS) with its own request and reply. */
  ask<Req extends MessageDefinition, Rep extends MessageDefinition>(
    endpoint: EndpointDefinition<Req, Rep>,
    payload: PayloadOf<Req>,
    body?: Uint8Array,
  ): Promise<PayloadOf<Rep>>;
  stop(): Promise<void>;
}

export async function startStack(
  options: { augmentCopies?: number; calibratedDecision?: boolean } = {},
): Promise<Stack> {
  const server = await startNatsServer({ configText: "max_payload: 8MB\n" });
  const logger = createLogger("registry-test", { level: process.env.LOG_LEVEL ?? "warn" });
  const bus = await connectBus({ servers: server.url, name: "registry-test", logger });
  await provision(bus);
  const worker = await startWorkerProcess(server.url);
  const make = () => createRegistry({ bus, logger, ...options });
  let registry = make();
  await registry.start();
  const stack: Stack = {
    server,
    bus,
    worker,
    registry,
    async restartRegistry() {
      await registry.stop();
      registry = make();
      await registry.start();
      stack.registry = registry;
    },
    call: (subject, request, payload, reply, body) =>
      call(bus, subject, { request, payload, reply, timeoutMs: 120_000, ...(body ? { body } : {}) }),
    ask: (endpoint, payload, body) =>
      stack.call(endpoint.subject, endpoint.request, payload, endpoint.reply, body),
    async stop() {
      await registry.stop().catch(() => {});
      await worker.stop();
      await closeBus(bus).catch(() => {});
      await server.stop();
    },
  };
  return stack;
}
