import { SERVICE_NEEDS } from "@speakers/bus";
import { runService } from "@speakers/runtime";
import { createWyomingBridge } from "./bridge.js";
import { bridgeConfigFromEnv } from "./config.js";

// Reads config, connects, starts, drains on SIGTERM; everything else lives in createWyomingBridge.
const config = bridgeConfigFromEnv();
await runService("wyoming-bridge", SERVICE_NEEDS.wyomingBridge, async (bus) => {
  const bridge = createWyomingBridge({ bus, config });
  await bridge.start();
  return () => bridge.stop();
});
