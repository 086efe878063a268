import { Kvm } from "@nats-io/kv";
import { Objm } from "@nats-io/obj";
import { DEFAULT_LIMITS, publishAudio } from "@speakers/audio-capture";
import { type Bus, call, prepareTopology, SERVICE_NEEDS } from "@speakers/bus";

import { ensureWorker, type WorkerHandle } from "@speakers/embedding-client";
import {
  DeleteReply,
  EnrollMeta,
  EnrollReply,
  IdentifyMeta,
  IdentifyReply,
  KV_BUCKETS,
  OBJECT_STORES,
  SERVICES,
  SpeakerDetail,
  SpeakerIdRequest,
  STREAMS,
} from "@speakers/events";
import { createRegistry, type Registry } from "@speakers/speaker-registry";
import { devFiles, devSpeakers, type NatsServer, readClip, waitUntil } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectRefused, Violations } from "./helpers/denied.js";

import { type Passwords, startSingleNode } from "./helpers/nats-users.js";
import { busAs, natsUrl, provisionAsAdmin, stopAll, watchIdentified } from "./helpers/speakers.js";
import { eventIds, scan } from "./helpers/streams.js";

// The real registry, logged in as `registry` on a server from deploy/nats/single.conf, doing its whole job
// beside the real GE2E worker (as `worker`): enrollment from earlier audio events, live identification, and
// erasure, which reaches into AUDIO, EMBEDDINGS, SPEAKERS, three KV buckets and the Object Store.
const ep = SERVICES.registry.endpoints;
const [SPEAKER] = devSpeakers();
const FILES = devFiles(SPEAKER as string);

let server: NatsServer;
let passwords: Passwords;
let admin: Bus;
let capture: Bus;
let registryBus: Bus;
let registryViolations: Violations;
let worker: WorkerHandle;
let registry: Registry;
const workerLog: string[] = [];

beforeAll(async () => {
  ({ server, passwords } = await startSingleNode());
  await provisionAsAdmin(server.url, passwords);
  admin = await busAs(server.url, "admin", passwords);
  capture = await busAs(server.url, "capture", passwords);
  registryBus = await busAs(server.url, "registry", passwords);
  registryViolations = new Violations(registryBus.nc);
  // The worker logs in as `worker`; the readiness probe goes over the registry's connection, because the
  // worker's user may answer `speakers.embedding.*` but not call it.
  worker = await ensureWorker({
    nc: registryBus.nc,
    servers: natsUrl(server.url, "worker", passwords),
    model: "ge2e",
    readyTimeoutMs: 120_000,
    onLog: (line) => workerLog.push(line),
  });
  // main.ts's start-up path: check the admin's topology, then start
  await prepareTopology(registryBus, SERVICE_NEEDS.registry);
  registry = createRegistry({ bus: registryBus });
  await registry.start();
}, 180_000);

afterAll(() =>
  stopAll(
    [() => registry?.stop().catch(() => {}), () => worker?.stop()],
    [admin, capture, registryBus],
    server,
  ),
);

/** Capture's own publish path; a small inline limit sends the first clip through the Object Store. */
async function captured(file: string, inlineLimitBytes = DEFAULT_LIMITS.inlineLimitBytes) {
  return publishAudio(
    capture,
    { bytes: readClip(file), deviceId: "kitchen" },
    { limits: { ...DEFAULT_LIMITS, inlineLimitBytes } },
  );
}

describe("the registry user of deploy/nats/auth.conf", () => {
  it("enrolls from earlier audio events, identifies, and erases every trace of the speaker", async () => {
    const identified = watchIdentified(admin);
    // heard before enrollment: the first clip is parked in audio-clips and referenced by its event
    const earlier = [await captured(FILES[0] as string, 1024), await captured(FILES[1] as string)];
    earlier.push(await captured(FILES[2] as string));
    expect(earlier[0]?.event.audio.kind).toBe("object");

    // `speakers enroll --event <id>` as the operator (admin) runs it
    const enrolled = await call(admin, ep.enroll, {
      request: EnrollMeta,
      payload: { name: "Erin", items: earlier.map((e) => ({ length: 0, eventId: e.id })) },
      reply: EnrollReply,
      timeoutMs: 60_000,
    });
    const erinId = enrolled.speaker?.id as string;
    expect(enrolled.result.outcome, JSON.stringify(enrolled)).toBe("enrolled");
    const detail = await call(admin, ep.get, {
      request: SpeakerIdRequest,
      payload: { speakerId: erinId },
      reply: SpeakerDetail,
    });
    const sampleClips = detail.samples.map((s) => s.clip?.name as string);

    // heard live: capture -> worker -> registry's durable consumer -> speaker.identified naming her
    const heard = await captured(FILES[5] as string);
    await waitUntil(() => identified.bySource.has(heard.id), {
      timeoutMs: 60_000,
      what: () => `no speaker.identified for ${heard.id}\n${workerLog.slice(-20).join("\n")}`,
      intervalMs: 100,
    });
    const event = identified.bySource.get(heard.id)?.[0];
    expect(event?.speaker?.id).toBe(erinId);
    // and on request (the registry calls the worker's `extract`)
    const asked = await call(admin, ep.identify, {
      request: IdentifyMeta,
      payload: { format: "flac" },
      reply: IdentifyReply,
      body: readClip(FILES[6] as string),
      timeoutMs: 60_000,
    });
    expect(asked.speaker?.id).toBe(erinId);
    identified.stop();

    const erased = await call(admin, ep.delete, {
      request: SpeakerIdRequest,
      payload: { speakerId: erinId },
      reply: DeleteReply,
      timeoutMs: 60_000,
    });
    // her three samples' clips and the captured clip her first enrollment event pointed at
    expect(erased).toEqual({
      speakerId: erinId,
      name: "Erin",
      erased: { samples: 3, voiceprints: 1, clips: sampleClips.length + 1 },
    });
    // the server refused the registry nothing along the way
    expect(registryViolations.seen.map((v) => `${v.operation} ${v.subject}`)).toEqual([]);
    expect(server.logTail()).not.toMatch(/Violation.*"registry"/);

    // nothing about her voice is readable any more, even to the admin
    await expect(
      call(admin, ep.get, {
        request: SpeakerIdRequest,
        payload: { speakerId: erinId },
        reply: SpeakerDetail,
      }),
    ).rejects.toMatchObject({ code: "SPEAKER_NOT_FOUND" });
    const audioIds = await eventIds(admin, STREAMS.AUDIO.name);
    for (const id of [...earlier.map((e) => e.id), heard.id]) expect(audioIds).not.toContain(id);
    expect(await eventIds(admin, STREAMS.EMBEDDINGS.name)).not.toContain(event?.embeddingEventId);
    expect(await speakerEventsNaming(admin, erinId)).toEqual(["speaker.deleted"]);
    const clips = await new Objm(admin.js).open(OBJECT_STORES.audioClips.name);
    for (const name of [...sampleClips, `captured/${earlier[0]?.id}`]) {
      expect(await clips.getBlob(name), name).toBeNull();
    }
    const kvm = new Kvm(admin.js);
    for (const bucket of [KV_BUCKETS.speakers, KV_BUCKETS.speakerSamples, KV_BUCKETS.voiceprints]) {
      const kv = await kvm.open(bucket.name);
      for (const key of [erinId, `${erinId}.>`]) {
        for await (const entry of await kv.history({ key })) {
          expect(entry.operation, `${bucket.name} ${entry.key}`).not.toBe("PUT");
        }
      }
    }
  }, 120_000);

  it("may erase single messages but not purge, rewrite or drop a stream, nor publish audio", async () => {
    const jsm = registryBus.jsm;
    for (const stream of [STREAMS.AUDIO.name, STREAMS.EMBEDDINGS.name, STREAMS.SPEAKERS.name]) {
      await expectRefused(jsm.streams.purge(stream), `$JS.API.STREAM.PURGE.${stream}`);
      await expectRefused(jsm.streams.delete(stream), `$JS.API.STREAM.DELETE.${stream}`);
      const { config } = await admin.jsm.streams.info(stream);
      await expectRefused(jsm.streams.update(stream, config), `$JS.API.STREAM.UPDATE.${stream}`);
    }
    await expectRefused(registryBus.js.publish("audio.captured.kitchen", "x"), "audio.captured.kitchen");
  });
});

/** Subjects of SPEAKERS events that name the speaker in the body. */
async function speakerEventsNaming(bus: Bus, speakerId: string): Promise<string[]> {
  const subjects: string[] = [];
  await scan(bus, STREAMS.SPEAKERS.name, false, (m) => {
    if (new TextDecoder().decode(m.data).includes(speakerId)) subjects.push(m.subject);
  });
  return subjects;
}
