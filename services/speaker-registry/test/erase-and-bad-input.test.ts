/** Erasure really erases, and every endpoint answers bad input with its typed error and keeps serving. */

import { Kvm } from "@nats-io/kv";
import { Objm } from "@nats-io/obj";
import { KV_BUCKETS, OBJECT_STORES, REGISTRY_ENDPOINTS, STREAMS } from "@speakers/events";
import { devFiles, devSpeakers, readClip as read } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enrollFiles, getSpeaker, listSpeakers } from "./support/requests.js";
import { type Stack, startStack } from "./support/stack.js";
import { publishAudio } from "./support/streams.js";
import { collectEvents } from "./support/wait.js";

const ep = REGISTRY_ENDPOINTS;
let stack: Stack;
const [A, B] = devSpeakers();
const filesA = devFiles(A as string);
const filesB = devFiles(B as string);

/** Publishes a recording as captured audio and waits for its identification. */
async function hear(file: string, deviceId: string) {
  const identified = collectEvents(stack.bus, "speaker.identified");
  const heard = { id: await publishAudio(stack, read(file), { service: "test", deviceId }) };
  const seen = await identified.until((all) => all.some((e) => e.sourceEventId === heard.id));
  return { heard, event: seen.find((e) => e.sourceEventId === heard.id) };
}

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

describe("erasure", () => {
  it("leaves nothing about the voice readable: KV history, clips, and the audio, embeddings and events it was heard in", async () => {
    const enrolled = await enrollFiles(stack, "Erin", filesA.slice(0, 3));
    const erinId = enrolled.speaker?.id as string;
    const keep = await enrollFiles(stack, "Kim", filesB.slice(0, 3));
    const detail = await getSpeaker(stack, erinId);
    const clipNames = detail.samples.map((s) => s.clip?.name as string);
    expect(clipNames).toHaveLength(3);

    // Erin is heard in the kitchen once.
    const { heard, event } = await hear(filesA[5] as string, "kitchen");
    expect(event?.speaker?.id).toBe(erinId);

    // Kim is heard too: her identification ranks Erin as a candidate, by Erin's candidate ref only.
    const { heard: kimHeard, event: kimEvent } = await hear(filesB[5] as string, "hall");
    expect(kimEvent?.candidates.map((c: { ref: string }) => c.ref)).toContain(detail.speaker.ref);

    const deleted = collectEvents(stack.bus, "speaker.deleted");
    const reply = await stack.ask(ep.delete, { speakerId: erinId });
    expect(reply).toMatchObject({
      speakerId: erinId,
      name: "Erin",
      erased: { samples: 3, voiceprints: 1, clips: 3 },
    });
    await deleted.until((all) => all.some((e) => e.speakerId === erinId));

    await expect(getSpeaker(stack, erinId)).rejects.toMatchObject({ code: "SPEAKER_NOT_FOUND" });
    expect((await listSpeakers(stack)).speakers.map((s) => s.id)).toEqual([keep.speaker?.id]);

    const kvm = new Kvm(stack.bus.js);
    for (const bucket of [KV_BUCKETS.speakers, KV_BUCKETS.speakerSamples, KV_BUCKETS.voiceprints]) {
      const kv = await kvm.open(bucket.name);
      const history = await kv.history({ key: `${erinId}.>` });
      for await (const entry of history) {
        expect(entry.operation).not.toBe("PUT");
        expect(entry.length).toBe(0);
      }
      const own = await kv.history({ key: erinId });
      for await (const entry of own) expect(entry.operation).not.toBe("PUT");
    }
    const store = await new Objm(stack.bus.js).open(OBJECT_STORES.audioClips.name);
    for (const name of clipNames) expect(await store.getBlob(name)).toBeNull();

    // The audio she was heard in, its embedding and the identification naming her are gone from the streams.
    const scan = async (stream: string) => {
      const ids: string[] = [];
      const c = await stack.bus.js.consumers.get(stream, { headers_only: true });
      const pending = (await c.info()).num_pending;
      if (pending === 0) return ids;
      for await (const m of await c.fetch({ max_messages: pending, expires: 5000 })) {
        ids.push(m.headers?.get("ce-id") ?? "");
        if (m.info.pending === 0) break;
      }
      return ids;
    };
    expect(await scan(STREAMS.AUDIO.name)).not.toContain(heard.id);
    expect(await scan(STREAMS.EMBEDDINGS.name)).not.toContain(event?.embeddingEventId);
    const c = await stack.bus.js.consumers.get(STREAMS.SPEAKERS.name);
    const pending = (await c.info()).num_pending;
    const mentions: string[] = [];
    const kept: string[] = [];
    for await (const m of await c.fetch({ max_messages: pending, expires: 5000 })) {
      const body = new TextDecoder().decode(m.data);
      if (body.includes("Erin") || (body.includes(erinId) && m.subject !== "speaker.deleted"))
        mentions.push(m.subject);
      if (m.subject === "speaker.identified") kept.push(JSON.parse(body).embeddingEventId);
      if (m.info.pending === 0) break;
    }
    // Kim's identification, which listed Erin as a candidate, stays, and does not name her.
    expect(mentions).toEqual([]);
    expect(kept).toContain(kimEvent?.embeddingEventId);
    expect(await scan(STREAMS.AUDIO.name)).toContain(kimHeard.id);

    // Kim is untouched and still identified.
    const kim = await getSpeaker(stack, keep.speaker?.id as string);
    expect(kim.samples).toHaveLength(3);
  });
});

describe("bad input gets a typed error and the service stays up", () => {
  const flac = () => read(filesA[0] as string);
  const garbage = new TextEncoder().encode("this is not audio at all, just text pretending".repeat(50));
  const cases: [string, () => Promise<unknown>, string][] = [
    ["identify: empty body", () => stack.ask(ep.identify, {}, new Uint8Array(0)), "AUDIO_EMPTY"],
    ["identify: not audio", () => stack.ask(ep.identify, { format: "wav" }, garbage), "AUDIO_"],
    ["identify: bad meta", () => stack.ask(ep.identify, { topK: 99 } as never, flac()), "INVALID_REQUEST"],
    [
      "verify: unknown speaker",
      () => stack.ask(ep.verify, { speakerId: "spk_nobody" }, flac()),
      "SPEAKER_NOT_FOUND",
    ],
    [
      "verify: id with a wildcard",
      () => stack.ask(ep.verify, { speakerId: "*.>" }, flac()),
      "SPEAKER_NOT_FOUND",
    ],
    [
      "enroll: lengths do not match the body",
      () => stack.ask(ep.enroll, { name: "X", items: [{ length: 10 }] }, flac()),
      "INVALID_REQUEST",
    ],
    [
      "enroll: sample with two sources",
      () => stack.ask(ep.enroll, { name: "X", items: [{ length: 0, path: "/a.wav", eventId: "e1" }] }),
      "INVALID_REQUEST",
    ],
    [
      "enroll: clip in a foreign bucket",
      () => stack.ask(ep.enroll, { name: "X", items: [{ length: 0, clip: { bucket: "other", name: "x" } }] }),
      "INVALID_REQUEST",
    ],
    [
      "enroll: unknown audio event",
      () => stack.ask(ep.enroll, { name: "X", items: [{ length: 0, eventId: "no-such-event" }] }),
      "AUDIO_OBJECT_NOT_FOUND",
    ],
    [
      "enroll: corrupt audio",
      () => stack.ask(ep.enroll, { name: "X", items: [{ length: garbage.length, format: "flac" }] }, garbage),
      "AUDIO_",
    ],
    [
      "enroll: no name",
      () => stack.ask(ep.enroll, { name: "", items: [{ length: 1 }] } as never, new Uint8Array(1)),
      "INVALID_REQUEST",
    ],
    [
      "samples.add: unknown speaker",
      () => stack.ask(ep.samplesAdd, { speakerId: "spk_nobody", items: [{ length: 0, path: "/x.flac" }] }),
      "SPEAKER_NOT_FOUND",
    ],
    [
      "samples.remove: unknown sample",
      async () => {
        const id = (await listSpeakers(stack)).speakers[0]?.id as string;
        return stack.ask(ep.samplesRemove, { speakerId: id, sampleId: "smp_nope" });
      },
      "SAMPLE_NOT_FOUND",
    ],
    ["list: bad limit", () => stack.ask(ep.list, { limit: 0 } as never), "INVALID_REQUEST"],
    ["get: unknown speaker", () => stack.ask(ep.get, { speakerId: "spk_nobody" }), "SPEAKER_NOT_FOUND"],
    [
      "get: not JSON",
      () =>
        stack.bus.nc.request(ep.get.subject, "{not json", { timeout: 10_000 }).then((m) => {
          throw new Error(m.headers?.get("Nats-Service-Error") ?? "no error");
        }),
      "INVALID_REQUEST",
    ],
    [
      "rename: to a taken name",
      async () => {
        const enrolled = await listSpeakers(stack);
        const [first] = enrolled.speakers;
        await enrollFiles(stack, "Taken", filesA.slice(6, 9));
        return stack.ask(ep.rename, { speakerId: first?.id as string, name: "taken" });
      },
      "SPEAKER_EXISTS",
    ],
    ["delete: unknown speaker", () => stack.ask(ep.delete, { speakerId: "spk_nobody" }), "SPEAKER_NOT_FOUND"],
  ];

  for (const [name, run, code] of cases) {
    it(name, async () => {
      const err = await run().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, "expected an error").toBeDefined();
      const got = (err as { code?: string }).code ?? (err as Error).message;
      expect(got).toContain(code);
    });
  }

  it("still answers after all of that", async () => {
    const list = await listSpeakers(stack);
    expect(list.total).toBeGreaterThan(0);
  });
});
