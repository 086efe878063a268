import { SERVICE_NEEDS } from "@speakers/bus";
import { runService } from "@speakers/runtime";
import { createCapture } from "./capture.js";
import { captureConfigFromEnv } from "./config.js";

// Reads config, connects, starts, drains on SIGTERM; everything else lives in createCapture.
const config = captureConfigFromEnv();
await runService("audio-capture", SERVICE_NEEDS.capture, async (bus) => {
  const capture = createCapture({ bus, config });
  await capture.listen();
  return () => capture.close();
});
