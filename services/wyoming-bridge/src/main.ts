import {
  connectBus,
  installShutdown,
  prepareTopology,
  provisionModeFromEnv,
  SERVICE_NEEDS,
} from "@speakers/bus";
import { createWyomingBridge } from "./bridge.js";
import { bridgeConfigFromEnv } from "./config.js";

// Reads config, connects, starts, drains on SIGTERM; everything else lives in createWyomingBridge.
const config = bridgeConfigFromEnv();
const bus = await connectBus({
  servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
  name: "wyoming-bridge",
});
await prepareTopology(bus, SERVICE_NEEDS.wyomingBridge, { mode: provisionModeFromEnv() });
const bridge = createWyomingBridge({ bus, config });
await bridge.start();
installShutdown(bus, [() => bridge.stop()]);
