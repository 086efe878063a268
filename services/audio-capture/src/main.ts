import {
  connectBus,
  installShutdown,
  prepareTopology,
  provisionModeFromEnv,
  SERVICE_NEEDS,
} from "@speakers/bus";
import { createCapture } from "./capture.js";
import { captureConfigFromEnv } from "./config.js";

// Reads config, connects, starts, drains on SIGTERM; everything else lives in createCapture.
const config = captureConfigFromEnv();
const bus = await connectBus({
  servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
  name: "audio-capture",
});
await prepareTopology(bus, SERVICE_NEEDS.capture, { mode: provisionModeFromEnv() });
const capture = createCapture({ bus, config });
await capture.listen();
installShutdown(bus, [() => capture.close()]);
