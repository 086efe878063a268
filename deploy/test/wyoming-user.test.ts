import { AckPolicy } from "@nats-io/jetstream";
import { type Bus, call, prepareTopology, SERVICE_NEEDS } from "@speakers/bus";

import { ensureWorker, type WorkerHandle } from "@speakers/embedding-client";
import { EnrollMeta, EnrollReply, SERVICES, STREAMS } from "@speakers/events";
import { createRegistry, type Registry } from "@speakers/speaker-registry";
import {
  devFiles,
  devSpeakers,
  type NatsServer,
  readClip,
  runClient,
  waitUntil,
} from "@speakers/test-support";
import { bridgeConfigFromEnv, createWyomingBridge, type WyomingBridge } from "@speakers/wyoming-bridge";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Violations } from "./helpers/denied.js";

import { type Passwords, startSingleNode } from "./helpers/nats-users.js";
import { busAs, natsUrl, provisionAsAdmin, stopAll } from "./helpers/speakers.js";
import { scan } from "./helpers/streams.js";

// The Wyoming bridge logged in as `wyoming` on deploy/nats/single.conf, doing its whole job beside the real
// registry (as `registry`) and GE2E worker (as `worker`): publish an utterance, follow its speaker.identified,
// read the awaited plugin's consumer, ask the registry for the early guess and publish it. Nothing refused.
const [SPEAKER] = devSpeakers();
const FILES = devFiles(SPEAKER as string);

let server: NatsServer;
let passwords: Passwords;
let admin: Bus;
let registryBus: Bus;
let wyomingBus: Bus;
let violations: Violations;
let worker: WorkerHandle;
let registry: Registry;
let bridge: WyomingBridge;

beforeAll(async () => {
  ({ server, passwords } = await startSingleNode());
  await provisionAsAdmin(server.url, passwords);
  admin = await busAs(server.url, "admin", passwords);
  registryBus = await busAs(server.url, "registry", passwords);
  worker = await ensureWorker({
    nc: registryBus.nc,
    servers: natsUrl(server.url, "worker", passwords),
    model: "ge2e",
    readyTimeoutMs: 180_000,
  });
  registry = createRegistry({ bus: registryBus });
  await registry.start();
  // The home-assistant plugin's durable, as the plugin creates it: the bridge reads its ack floor.
  await admin.jsm.consumers.add(STREAMS.SPEAKERS.name, {
    durable_name: "plugin-home-assistant",
    ack_policy: AckPolicy.Explicit,
    filter_subjects: ["speaker.identified"],
  });
  wyomingBus = await busAs(server.url, "wyoming", passwords);
  violations = new Violations(wyomingBus.nc);
  // main.ts's start-up path: check the admin's topology, then start
  await prepareTopology(wyomingBus, SERVICE_NEEDS.wyomingBridge);
  bridge = createWyomingBridge({
    bus: wyomingBus,
    config: bridgeConfigFromEnv({
      SPEAKERS_WYOMING_URI: "tcp://127.0.0.1:0",
      SPEAKERS_WYOMING_WAIT_MS: "300",
    }),
  });
  await bridge.start();
}, 300_000);

afterAll(() =>
  stopAll(
    [() => bridge?.stop(), () => registry?.stop().catch(() => {}), () => worker?.stop()],
    [admin, registryBus, wyomingBus],
    server,
  ),
);

describe("the wyoming user", () => {
  it("publishes an utterance, gets its identification and early guess, and is refused nothing", async () => {
    const enrolled = await call(admin, SERVICES.registry.endpoints.enroll, {
      request: EnrollMeta,
      payload: {
        name: "Alice",
        items: FILES.slice(0, 3).map((f) => ({ length: readClip(f).length, format: "flac" as const })),
      },
      body: Buffer.concat(FILES.slice(0, 3).map(readClip)),
      reply: EnrollReply,
      timeoutMs: 180_000,
    });
    expect(enrolled.result).toMatchObject({ outcome: "enrolled" });

    const [line] = await runClient(bridge.listeners[0]?.uri ?? "", [
      "transcribe",
      FILES[3] as string,
      "--max-seconds",
      "4",
    ]);
    expect(line?.text).toBe("");

    const captured: string[] = [];
    await scan(admin, "AUDIO", true, (m) => captured.push(m.headers?.get("ce-id") ?? ""));
    expect(captured).toHaveLength(1);
    const seen = new Map<string, string[]>();
    await waitUntil(
      async () => {
        seen.clear();
        await scan(admin, "SPEAKERS", false, (m) => {
          const json = m.json<{ sourceEventId?: string }>();
          if (json.sourceEventId === captured[0])
            seen.set(m.subject, [...(seen.get(m.subject) ?? []), m.subject]);
        });
        return seen.has("speaker.identified") && seen.has("speaker.provisional");
      },
      {
        timeoutMs: 60_000,
        what: () => `for ${captured[0]}: ${[...seen.keys()].join(", ") || "nothing"} in SPEAKERS`,
        intervalMs: 100,
      },
    );
    expect(seen.get("speaker.identified")).toHaveLength(1);
    expect(violations.seen).toEqual([]);
  });
});
