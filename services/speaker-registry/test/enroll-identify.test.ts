/**
 * The registry as it runs: real nats-server, the real GE2E worker, real LibriSpeech speech. Mechanics, not
 * accuracy (the eval test in apps/cli measures that over every speaker).
 */
import { EmbeddingComputed, HEADERS, REGISTRY_ENDPOINTS, SpeakerIdentified, STREAMS } from "@speakers/events";
import { consumerIdle, devFiles, devSpeakers, readClip as read } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enrollFiles, getSpeaker, identifyFile, listSpeakers } from "./support/requests.js";
import { type Stack, startStack } from "./support/stack.js";
import { publishAudio } from "./support/streams.js";
import { collectEvents, cutClip, waitFor } from "./support/wait.js";

const ep = REGISTRY_ENDPOINTS;
let stack: Stack;
const [A, B, C] = devSpeakers();
const filesA = devFiles(A as string);
const filesB = devFiles(B as string);
const filesC = devFiles(C as string);
let aliceId: string;
let bobId: string;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

describe("enrollment and identification", () => {
  it("enrolls a speaker from three samples and reports progress", async () => {
    const progress = collectEvents(stack.bus, "speaker.enrollment.progress");
    const reply = await enrollFiles(stack, "Alice", filesA.slice(0, 3), { enrollmentId: "enr_alice" });
    expect(reply.result).toMatchObject({ outcome: "enrolled", samplesAccepted: 3, samplesRejected: 0 });
    expect(reply.speaker).toMatchObject({ name: "Alice", samples: 3, complete: true });
    expect(reply.quality.every((q) => q.accepted && q.sampleId)).toBe(true);
    aliceId = reply.speaker?.id as string;

    const events = (
      await progress.until((all) => all.some((e) => e.enrollmentId === "enr_alice" && e.stage === "done"))
    ).filter((e) => e.enrollmentId === "enr_alice");
    expect(events.map((e) => e.stage)).toEqual([
      "embedding",
      "embedding",
      "embedding",
      "embedding",
      "checking",
      "saving",
      "done",
    ]);
    expect(events.map((e) => e.done)).toEqual([0, 1, 2, 3, 3, 3, 3]);
    expect(events.at(-1)?.final).toMatchObject({ outcome: "enrolled", samplesAccepted: 3 });
  });

  it("identifies the enrolled voice and calls a stranger unknown", async () => {
    const bob = await enrollFiles(stack, "Bob", filesB.slice(0, 3));
    bobId = bob.speaker?.id as string;
    const known = await identifyFile(stack, filesA[5] as string);
    expect(known).toMatchObject({ decision: "known", speaker: { id: aliceId, name: "Alice" } });
    expect(known.score).toBeGreaterThanOrEqual(known.threshold);
    expect(known.candidates.map((c) => c.speakerId)).toEqual([aliceId, bobId]);

    // C never enrolled: the nearest voiceprint must not be named.
    const stranger = await identifyFile(stack, filesC[4] as string);
    expect(stranger.decision).toBe("unknown");
    expect(stranger.speaker).toBeUndefined();
  });

  it("verifies 1:1", async () => {
    const yes = await stack.ask(ep.verify, { speakerId: aliceId, format: "flac" }, read(filesA[6] as string));
    const no = await stack.ask(ep.verify, { speakerId: aliceId, format: "flac" }, read(filesB[6] as string));
    expect(yes.match).toBe(true);
    expect(no.match).toBe(false);
    expect(yes.score).toBeGreaterThan(no.score);
  });

  it("never returns raw embeddings unless asked", async () => {
    const plain = await getSpeaker(stack, aliceId);
    expect(JSON.stringify(plain)).not.toMatch(/"vector"|"embeddings"/);
    expect(plain.samples).toHaveLength(3);
    const full = await getSpeaker(stack, aliceId, true);
    expect(full.samples[0]?.embeddings?.[0]?.vector).toHaveLength(256);
    expect(full.voiceprints[0]?.vector).toHaveLength(256);
  });

  it("rejects a sample of another enrolled speaker with feedback, keeping the rest", async () => {
    const reply = await enrollFiles(stack, "Alice", [filesA[3] as string, filesB[4] as string]);
    expect(reply.quality.map((q) => q.accepted)).toEqual([true, false]);
    expect(["ENROLL_SAMPLE_CLOSER_TO_OTHER", "ENROLL_SAMPLE_INCONSISTENT"]).toContain(reply.quality[1]?.code);
    expect(reply.feedback.find((f) => f.index === 1)?.hint).toBeTruthy();
    expect(reply.speaker?.samples).toBe(4);
  });

  it("rejects a too-short sample with a code that says what to do", async () => {
    const short = cutClip(filesC[0] as string, 1.5);
    const err = await stack
      .ask(ep.enroll, { name: "Shorty", items: [{ length: short.length, format: "wav" }] }, short)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "ENROLL_SAMPLE_TOO_SHORT" });
    expect((err as Error).message).toContain("1.5 s");
    expect((await listSpeakers(stack, "Shorty")).total).toBe(0);
  });

  it("lets two concurrent enrollments of the same new speaker both land", async () => {
    const [one, two] = await Promise.all([
      enrollFiles(stack, "Carol", filesC.slice(0, 2)),
      enrollFiles(stack, "carol", filesC.slice(2, 4)),
    ]);
    expect(one.speaker?.id).toBe(two.speaker?.id);
    const detail = await getSpeaker(stack, one.speaker?.id as string, true);
    expect(detail.samples).toHaveLength(4);
    expect(detail.voiceprints[0]?.samples).toBe(4);
    const list = await listSpeakers(stack, "CAROL");
    expect(list.speakers).toHaveLength(1);
  });

  it("takes a sample's contribution out of the voiceprint when it is removed", async () => {
    const before = await getSpeaker(stack, aliceId, true);
    const removed = before.samples[3]?.sampleId as string;
    const summary = await stack.ask(ep.samplesRemove, { speakerId: aliceId, sampleId: removed });
    expect(summary.samples).toBe(3);
    const after = await getSpeaker(stack, aliceId, true);
    expect(after.samples.map((s) => s.sampleId)).not.toContain(removed);
    expect(after.voiceprints[0]?.vector).not.toEqual(before.voiceprints[0]?.vector);
    expect(after.voiceprints[0]?.samples).toBe(3);
  });
});

describe("the event chain", () => {
  it("identifies captured audio, names a voice heard earlier, and stores one identification per embedding", async () => {
    const identified = collectEvents(stack.bus, "speaker.identified");
    const audioIds: string[] = [];
    for (const file of [filesA[7], filesC[6]] as string[]) {
      audioIds.push(await publishAudio(stack, read(file), { service: "test", deviceId: "kitchen" }));
    }
    const events = await identified.until((all) =>
      audioIds.every((id) => all.some((e) => e.sourceEventId === id)),
    );
    const forA = events.find((e) => e.sourceEventId === audioIds[0]);
    const forC = events.find((e) => e.sourceEventId === audioIds[1]);
    expect(forA).toMatchObject({ decision: "known", speaker: { id: aliceId } });
    // Carol is enrolled by now, so C's clip is known too; what matters is it is not Alice or Bob.
    expect(forC?.speaker?.id).not.toBe(aliceId);

    // Deliver the same embedding again (a redelivery): still one speaker.identified.
    const emb = await stack.bus.jsm.streams.getMessage(STREAMS.EMBEDDINGS.name, {
      last_by_subj: EmbeddingComputed.subject(stack.registry.liveModel()),
    });
    const embeddingId = emb?.header.get(HEADERS.ceId) as string;
    if (emb === null) throw new Error("no embedding stored");
    const h = emb.header;
    h.set(HEADERS.natsMsgId, `${embeddingId}-again`);
    await stack.bus.js.publish(emb.subject, emb.data, { headers: h, msgID: `${embeddingId}-again` });
    await waitFor(() => consumerIdle(stack.bus.jsm, STREAMS.EMBEDDINGS.name, "speaker-registry"));
    let copies = 0;
    const sub = await stack.bus.js.consumers.get(STREAMS.SPEAKERS.name, {
      filter_subjects: [SpeakerIdentified.filter],
    });
    const info = await sub.info();
    const batch = await sub.fetch({ max_messages: info.num_pending, expires: 2000 });
    for await (const m of batch) {
      if (
        m.headers?.get(HEADERS.ceId) &&
        JSON.parse(new TextDecoder().decode(m.data)).embeddingEventId === embeddingId
      )
        copies++;
      if (m.info.pending === 0) break;
    }
    expect(copies).toBe(1);

    // Name the voice heard in the kitchen: enroll Dave from that audio event.
    const dave = await stack
      .ask(ep.enroll, {
        name: "Dave",
        items: [{ length: 0, eventId: audioIds[0] as string }],
        createOnly: true,
      })
      .catch((err: unknown) => err);
    // It is Alice's voice, so the gates say so instead of enrolling a second Alice.
    expect(dave).toMatchObject({ code: "ENROLL_SAMPLE_CLOSER_TO_OTHER" });
  });

  it("after a restart serves the same answers and identifies what arrived while it was down", async () => {
    const before = await identifyFile(stack, filesB[8] as string);
    await stack.registry.stop();
    const identified = collectEvents(stack.bus, "speaker.identified");
    const sentId = await publishAudio(stack, read(filesB[9] as string), {
      service: "test",
      deviceId: "hall",
    });
    await stack.server.restart();
    await waitFor(
      () =>
        stack.bus.jsm.getAccountInfo().then(
          () => true,
          () => false,
        ),
      30_000,
      "JetStream back",
    );
    await stack.restartRegistry();
    const events = await identified.until((all) => all.some((e) => e.sourceEventId === sentId));
    expect(events.find((e) => e.sourceEventId === sentId)).toMatchObject({
      decision: "known",
      speaker: { id: bobId },
    });
    const after = await identifyFile(stack, filesB[8] as string);
    expect(after).toEqual(before);
    expect((await listSpeakers(stack)).total).toBe(3);
  });
});
