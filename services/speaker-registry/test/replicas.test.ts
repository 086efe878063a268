/**
 * Two registry replicas on one server: each scores against its own watched copy of the voiceprints, so a
 * write answered by one replica must already count on the other when the next request lands there.
 * Requests go to the `registry` queue group, so which replica answers is the server's choice; the service
 * stats say afterwards which one did, and the test fails unless the replica that did not write answered.
 * The same holds for what identification reads from `registry-state` (an adaptation switch, a calibration).
 */
import { Svcm } from "@nats-io/services";
import { type Bus, closeBus, connectBus, createLogger } from "@speakers/bus";
import { REGISTRY_ENDPOINTS, SERVICES } from "@speakers/events";
import { devFiles, devSpeakers } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRegistry, type Registry } from "../src/index.js";
import { enrollFiles, identifyFile } from "./support/requests.js";
import { type Stack, startStack } from "./support/stack.js";

const ep = REGISTRY_ENDPOINTS;
const [A] = devSpeakers();
const filesA = devFiles(A as string);
// Each request picks a replica at random: after this many, the other one answered with odds 1 - 2^-24.
const IDENTIFICATIONS = 24;

let stack: Stack;
let otherBus: Bus;
let other: Registry;

beforeAll(async () => {
  stack = await startStack();
  const logger = createLogger("registry-replica", { level: process.env.LOG_LEVEL ?? "warn" });
  otherBus = await connectBus({ servers: stack.server.url, name: "registry-replica", logger });
  other = createRegistry({ bus: otherBus, logger, consume: false });
  await other.start();
});

afterAll(async () => {
  await other?.stop().catch(() => {});
  if (otherBus) await closeBus(otherBus).catch(() => {});
  await stack?.stop();
});

type Served = Map<string, Map<string, number>>;

/** Requests each replica (by instance id) has answered, per endpoint. */
async function served(): Promise<Served> {
  // @nats-io/services pins an older nats-core; the connection is the same at runtime (as in @speakers/bus).
  const nc = stack.bus.nc as unknown as ConstructorParameters<typeof Svcm>[0];
  const stats = await new Svcm(nc).client().stats(SERVICES.registry.name);
  const out: Served = new Map();
  for await (const s of stats) {
    out.set(s.id, new Map((s.endpoints ?? []).map((e) => [e.name, e.num_requests])));
  }
  return out;
}

/** The replicas that answered `endpoint` between two snapshots. */
function answered(before: Served, after: Served, endpoint: string): string[] {
  return [...after].flatMap(([id, counts]) =>
    (counts.get(endpoint) ?? 0) > (before.get(id)?.get(endpoint) ?? 0) ? [id] : [],
  );
}

/** Identifies one clip of the speaker over and over, as fast as the replies come. */
async function identifyRepeatedly() {
  const replies = [];
  for (let i = 0; i < IDENTIFICATIONS; i++) replies.push(await identifyFile(stack, filesA[5] as string));
  return replies;
}

describe("registry replicas", () => {
  it("a speaker enrolled through one replica is identified by the other at once, and gone from it once erased", async () => {
    const start = await served();
    expect(start.size).toBe(2);

    const enrolled = await enrollFiles(stack, "Nora", filesA.slice(0, 3));
    const noraId = enrolled.speaker?.id as string;
    const afterEnroll = await identifyRepeatedly();
    for (const reply of afterEnroll) {
      expect(reply).toMatchObject({ decision: "known", speaker: { id: noraId, name: "Nora" } });
    }
    const enrolledStats = await served();
    const [writer] = answered(start, enrolledStats, "enroll");
    expect(writer).toBeDefined();
    expect(answered(start, enrolledStats, "identify").filter((id) => id !== writer)).toHaveLength(1);

    const erased = await stack.ask(ep.delete, { speakerId: noraId });
    expect(erased.erased.voiceprints).toBe(1);
    for (const reply of await identifyRepeatedly()) {
      expect(reply.candidates.map((c) => c.speakerId)).not.toContain(noraId);
      expect(reply).toMatchObject({ decision: "unknown", reason: "no-voiceprints" });
    }
    const erasedStats = await served();
    const [eraser] = answered(enrolledStats, erasedStats, "delete");
    expect(eraser).toBeDefined();
    expect(answered(enrolledStats, erasedStats, "identify").filter((id) => id !== eraser)).toHaveLength(1);
  });

  it("an adaptation switch and a calibration stored through one replica count on the other at once", async () => {
    // Both replicas read the current state first: a cache on either one would now hold it.
    const initial = await stack.ask(ep.adaptation, {});
    for (let i = 0; i < IDENTIFICATIONS; i++) await stack.ask(ep.adaptation, {});
    for (let i = 0; i < IDENTIFICATIONS; i++) await stack.ask(ep.calibrationGet, {});
    const start = await served();
    try {
      const switched = await stack.ask(ep.adaptation, { enabled: !initial.enabled });
      expect(switched).toMatchObject({ enabled: !initial.enabled, source: "setting" });
      const switchedStats = await served();
      const [writer] = answered(start, switchedStats, "adaptation");
      expect(writer).toBeDefined();
      for (let i = 0; i < IDENTIFICATIONS; i++) {
        expect(await stack.ask(ep.adaptation, {})).toMatchObject({
          enabled: !initial.enabled,
          source: "setting",
        });
      }
      const readStats = await served();
      expect(answered(switchedStats, readStats, "adaptation").filter((id) => id !== writer)).toHaveLength(1);

      const stored = await stack.ask(ep.calibrate, { targetFar: 0.05 });
      const computedAt = stored.calibration?.computedAt;
      expect(computedAt).toBeDefined();
      const calibratedStats = await served();
      const [calibrator] = answered(readStats, calibratedStats, "calibrate");
      expect(calibrator).toBeDefined();
      for (let i = 0; i < IDENTIFICATIONS; i++) {
        const reply = await stack.ask(ep.calibrationGet, {});
        expect(reply.calibration?.computedAt).toBe(computedAt);
        expect(reply.calibration?.targetFar).toBe(0.05);
      }
      const afterStats = await served();
      expect(
        answered(calibratedStats, afterStats, "calibration-get").filter((id) => id !== calibrator),
      ).toHaveLength(1);
    } finally {
      await stack.ask(ep.adaptation, { enabled: initial.enabled });
    }
  });
});
