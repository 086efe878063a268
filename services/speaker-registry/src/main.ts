/** `node dist/main.js`: connect, provision, start the registry, drain on SIGTERM. */
import { connectBus, installShutdown, provision } from "@speakers/bus";
import { enrollmentPolicyFromEnv } from "./enrollment-policy.js";
import { policyOverridesFromEnv } from "./model-policy.js";
import { createRegistry } from "./registry.js";

const bus = await connectBus({
  servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
  name: "speaker-registry",
});
await provision(bus);
const registry = createRegistry({
  bus,
  policyOverrides: policyOverridesFromEnv(),
  enrollment: enrollmentPolicyFromEnv(),
});
await registry.start();
installShutdown(bus, [() => registry.stop()]);
