import { type Bus, closeBus, connectBus, createLogger, provision } from "@speakers/bus";
import { ensureWorker, type WorkerHandle } from "@speakers/embedding-client";
import { presence } from "@speakers/plugin-presence";
import { type RunningPlugins, runPlugins } from "@speakers/plugin-sdk";
import { unknownVoices } from "@speakers/plugin-unknown-voices";
import { createRegistry, type Registry } from "@speakers/speaker-registry";
import { freePort, type NatsServer, startNatsServer } from "@speakers/test-support";
import { type Console, createConsole } from "../../src/index.js";

/**
 * The real system under the console: a nats-server with JetStream, the Python worker on GE2E (real weights),
 * the registry, the presence and unknown-voices plugins, and the console itself on a free loopback port.
 */
export interface ConsoleStack {
  server: NatsServer;
  bus: Bus;
  url: string;
  /** Stops the console and starts a new one on the same port (a browser's live feed has to reconnect). */
  restartConsole(): Promise<void>;
  stop(): Promise<void>;
}

export async function startConsoleStack(): Promise<ConsoleStack> {
  const server = await startNatsServer({ configText: "max_payload: 8MB\n" });
  const logger = createLogger("console-test", { level: process.env.LOG_LEVEL ?? "warn" });
  const bus = await connectBus({ servers: server.url, name: "console-test", logger });
  await provision(bus);
  let worker: WorkerHandle | undefined;
  let registry: Registry | undefined;
  let plugins: RunningPlugins | undefined;
  let console_: Console | undefined;
  const port = await freePort();
  const config = { host: "127.0.0.1", port, token: undefined, maxUploadBytes: 25 * 1024 * 1024 };
  const stop = async () => {
    await console_?.close().catch(() => {});
    await plugins?.stop().catch(() => {});
    await registry?.stop().catch(() => {});
    await worker?.stop().catch(() => {});
    await closeBus(bus).catch(() => {});
    await server.stop();
  };
  try {
    const log: string[] = [];
    worker = await ensureWorker({
      servers: server.url,
      model: "ge2e",
      readyTimeoutMs: 300_000,
      onLog: (line) => log.push(line),
    }).catch((err: unknown) => {
      throw new Error(`worker did not start: ${String(err)}\n${log.slice(-20).join("\n")}`);
    });
    registry = createRegistry({ bus, logger });
    await registry.start();
    plugins = await runPlugins(bus, [presence, unknownVoices], { logger, handlerTimeoutMs: 30_000 });
    console_ = createConsole({ bus, config, logger });
    const url = await console_.listen();
    return {
      server,
      bus,
      url,
      async restartConsole() {
        await console_?.close();
        console_ = createConsole({ bus, config, logger });
        await console_.listen();
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
