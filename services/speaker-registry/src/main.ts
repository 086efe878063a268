/** `node dist/main.js`: connect, provision or check the topology, start the registry, drain on SIGTERM. */
import {
  connectBus,
  defaultTopology,
  installShutdown,
  prepareTopology,
  provisionModeFromEnv,
  SERVICE_NEEDS,
} from "@speakers/bus";
import { audioRetentionFromEnv } from "@speakers/events";
import { policyOverridesFromEnv } from "@speakers/scoring";
import { enrollmentPolicyFromEnv } from "./enrollment-policy.js";
import { createRegistry } from "./registry.js";

const bus = await connectBus({
  servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
  name: "speaker-registry",
});
// When this service provisions, SPEAKERS_AUDIO_MAX_AGE / _MAX_BYTES set the AUDIO stream's retention.
await prepareTopology(bus, SERVICE_NEEDS.registry, {
  mode: provisionModeFromEnv(),
  topology: defaultTopology(audioRetentionFromEnv()),
});
const registry = createRegistry({
  bus,
  policyOverrides: policyOverridesFromEnv(),
  enrollment: enrollmentPolicyFromEnv(),
});
await registry.start();
installShutdown(bus, [() => registry.stop()]);
