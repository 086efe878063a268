import { basename } from "node:path";
import { publishAudio } from "@speakers/audio-capture";
import { type Bus, call, defaultTopology, prepareTopology, provision, SERVICE_NEEDS } from "@speakers/bus";
import { EnrollMeta, EnrollReply, SERVICES, STREAMS } from "@speakers/events";
import { createRegistry, type Registry } from "@speakers/speaker-registry";
import { devFiles, devSpeakers, readClip, waitUntil } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCluster, nodeByName, startLocalCluster } from "./helpers/cluster.js";
import { newPasswords, type Passwords } from "./helpers/nats-users.js";
import { busAs, natsUrl, retried, stopAll } from "./helpers/speakers.js";
import { eventIds, storedIdentifications } from "./helpers/streams.js";
import { startClusterWorker, type WorkerProcess } from "./helpers/worker.js";

// The missing half: the 3-node cluster from deploy/nats/cluster/*.conf as local processes, provisioned
// with 3 replicas, the real GE2E worker and the real registry under their own users, real speech published by
// capture, and a node SIGKILLed mid-traffic. Every clip must still be identified, exactly once.
const CLIPS = 12;
const KILL_AT = 4;
// An ack sent to a consumer leader that dies is lost, and the message comes back after ack_wait (30 s by
// default): correct, but slow for a test, so these consumers wait 10 s (the worker keeps a long batch alive
// with in-progress acks at a third of ACK_WAIT_S).
const ACK_WAIT_MS = 10_000;

const [A, B] = devSpeakers() as [string, string];
const filesA = devFiles(A);
const filesB = devFiles(B);

let cluster: LocalCluster;
let passwords: Passwords;
let admin: Bus;
let capture: Bus;
let registryBus: Bus;
let worker: WorkerProcess;
let registry: Registry;
const speakerIds = new Map<string, string>();

beforeAll(async () => {
  passwords = newPasswords();
  cluster = await startLocalCluster(passwords);
  admin = await busAs(cluster.urls, "admin", passwords);
  // `speakers provision --replicas 3`, with the shorter ack wait; re-run while the new cluster still counts
  // a peer offline for placement, as an operator would
  const topology = defaultTopology({ replicas: 3 });
  const consumers = topology.consumers.map((c) => ({ ...c, ackWaitMs: ACK_WAIT_MS }));
  await retried(() => provision(admin, { ...topology, consumers }), 5, 1_000);
  capture = await busAs(cluster.urls, "capture", passwords);
  registryBus = await busAs(cluster.urls, "registry", passwords);
  worker = await startClusterWorker(natsUrl(cluster.urls, "worker", passwords), registryBus.nc, {
    ACK_WAIT_S: String(ACK_WAIT_MS / 1000),
  });
  await prepareTopology(registryBus, SERVICE_NEEDS.registry);
  registry = createRegistry({ bus: registryBus });
  await registry.start();
  for (const [name, files] of [
    [A, filesA],
    [B, filesB],
  ] as const) {
    const clips = files.slice(0, 3).map(readClip);
    const reply = await call(admin, SERVICES.registry.endpoints.enroll, {
      request: EnrollMeta,
      payload: {
        name: `speaker ${name}`,
        items: clips.map((c, i) => ({
          length: c.length,
          format: "flac" as const,
          label: basename(files[i] ?? ""),
        })),
      },
      reply: EnrollReply,
      body: Buffer.concat(clips),
      timeoutMs: 60_000,
    });
    speakerIds.set(name, reply.speaker?.id as string);
  }
}, 180_000);

afterAll(() =>
  stopAll(
    [() => registry?.stop().catch(() => {}), () => worker?.stop()],
    [admin, capture, registryBus],
    cluster,
  ),
);

describe("the 3-node cluster from deploy/nats/cluster", () => {
  it("identifies every clip exactly once while the AUDIO leader is SIGKILLed mid-traffic", async () => {
    const speakerOf = new Map<string, string>();
    let killed: string | undefined;
    for (let i = 0; i < CLIPS; i++) {
      if (i === KILL_AT) {
        killed = (await admin.jsm.streams.info(STREAMS.AUDIO.name)).cluster?.leader ?? "";
        process.kill(nodeByName(cluster, killed).pid ?? 0, "SIGKILL");
      }
      const [speaker, files] = i % 2 === 0 ? [A, filesA] : [B, filesB];
      // the clips not used for enrollment, round and round (a speaker is heard saying the same thing twice)
      const file = files[3 + (Math.floor(i / 2) % (files.length - 3))] as string;
      // a fixed id: a publish retried across the leader change is stored once (JetStream dedupe)
      const id = `clip-${i}`;
      await retried(() => publishAudio(capture, { bytes: readClip(file), deviceId: "kitchen", id }));
      speakerOf.set(id, speaker);
    }

    // Reading a stream takes an ephemeral consumer, and until the survivors sweep the SIGKILLed node out (up to
    // 150 s) one may be placed there: that create times out, so the test's own reads are retried.
    const read = <T>(what: () => Promise<T>) => retried(what, 10, 0);
    let stored: Awaited<ReturnType<typeof storedIdentifications>> = [];
    await waitUntil(
      async () => {
        stored = await storedIdentifications(admin).catch(() => stored);
        return [...speakerOf.keys()].every((id) => stored.some((e) => e.sourceEventId === id));
      },
      {
        timeoutMs: 75_000,
        what: () =>
          `identified ${new Set(stored.map((e) => e.sourceEventId)).size}/${CLIPS} clips\n${worker.log()}`,
        intervalMs: 100,
      },
    );

    // nothing lost, nothing doubled: each clip once in AUDIO and once in SPEAKERS
    stored = await read(() => storedIdentifications(admin));
    const audio = await read(() => eventIds(admin, STREAMS.AUDIO.name));
    expect(audio.filter((id) => speakerOf.has(id)).sort()).toEqual([...speakerOf.keys()].sort());
    const perClip = new Map<string, number>();
    for (const e of stored) perClip.set(e.sourceEventId, (perClip.get(e.sourceEventId) ?? 0) + 1);
    for (const id of speakerOf.keys()) expect(perClip.get(id), id).toBe(1);
    // and identification went on after the kill: the clips published later are named as their speaker
    const after = stored.filter((e) => Number(e.sourceEventId.slice("clip-".length)) >= KILL_AT);
    const right = after.filter((e) => e.speaker?.id === speakerIds.get(speakerOf.get(e.sourceEventId) ?? ""));
    expect(
      right.length,
      JSON.stringify(after.map((e) => [e.sourceEventId, e.decision])),
    ).toBeGreaterThanOrEqual(after.length - 2);
    expect((await admin.jsm.streams.info(STREAMS.AUDIO.name)).cluster?.leader).not.toBe(killed);
  }, 120_000);
});
