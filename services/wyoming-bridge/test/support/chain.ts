import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { type Bus, call, closeBus, connectBus, createLogger, type Logger, provision } from "@speakers/bus";
import { ensureWorker } from "@speakers/embedding-client";
import { EnrollMeta, EnrollReply, SERVICES } from "@speakers/events";
import { homeAssistantPlugin } from "@speakers/plugin-home-assistant";
import { type RunningPlugin, startPlugin } from "@speakers/plugin-sdk";
import { createRegistry, type Registry } from "@speakers/speaker-registry";
import { type Mosquitto, type NatsServer, startMosquitto, startNatsServer } from "@speakers/test-support";
import { bridgeConfigFromEnv, createWyomingBridge, type WyomingBridge } from "../../src/index.js";
// The home-assistant plugin's broker harness (a real Mosquitto on a free port); reused rather than copied.

/** A real nats-server, the real GE2E worker, the registry and, when asked, Mosquitto with the real HA plugin. */
export interface Chain {
  nats: NatsServer;
  bus: Bus;
  registry?: Registry;
  broker?: Mosquitto;
  plugin?: RunningPlugin;
  enroll(name: string, files: readonly string[]): Promise<EnrollReply>;
  /** A Wyoming bridge on this chain's bus, configured from `env` as its main configures it (not started). */
  bridge(env: Record<string, string>, logger: Logger): WyomingBridge;
  stop(): Promise<void>;
}

export async function startChain(options: { mqtt?: boolean; worker?: boolean } = {}): Promise<Chain> {
  const logger = createLogger("wyoming-test", { level: process.env.LOG_LEVEL ?? "warn" });
  const nats = await startNatsServer({ configText: "max_payload: 8MB\n" });
  const bus = await connectBus({ servers: nats.url, name: "wyoming-test", logger });
  await provision(bus);
  const worker =
    options.worker === false
      ? undefined
      : await ensureWorker({ servers: nats.url, model: "ge2e", readyTimeoutMs: 180_000 });
  // The registry asks the worker which model is live, so it runs only with one.
  const registry = worker ? createRegistry({ bus, logger }) : undefined;
  await registry?.start();
  let broker: Mosquitto | undefined;
  let plugin: RunningPlugin | undefined;
  if (options.mqtt) {
    broker = await startMosquitto();
    plugin = await startPlugin(bus, homeAssistantPlugin(), {
      config: { mqttUrl: broker.url, clientId: "speakers-wyoming-test" },
      backoffMs: 100,
    });
  }
  return {
    nats,
    bus,
    ...(registry ? { registry } : {}),
    ...(broker ? { broker } : {}),
    ...(plugin ? { plugin } : {}),
    async enroll(name, files) {
      const clips = files.map((f) => readFileSync(f));
      const body = Buffer.concat(clips);
      const items = files.map((f, i) => ({
        length: clips[i]?.length ?? 0,
        format: "flac" as const,
        label: basename(f),
      }));
      return call(bus, SERVICES.registry.endpoints.enroll, {
        request: EnrollMeta,
        payload: { name, items },
        body,
        reply: EnrollReply,
        timeoutMs: 180_000,
      });
    },
    bridge: (env, logger) => createWyomingBridge({ bus, config: bridgeConfigFromEnv(env), logger }),
    async stop() {
      await plugin?.stop().catch(() => {});
      await registry?.stop().catch(() => {});
      await worker?.stop();
      await closeBus(bus).catch(() => {});
      await nats.stop();
      await broker?.stop();
    },
  };
}
