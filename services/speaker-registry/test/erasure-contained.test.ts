/**
 * Erasure is complete and contained (ADR 0004): nothing stored names the erased speaker afterwards, not even
 * an identification that was in flight during the delete, and every other speaker's history stays.
 */
import { randomUUID } from "node:crypto";
import { type Delivery, eventMeta } from "@speakers/bus";
import { createEmbeddingClient } from "@speakers/embedding-client";
import { EmbeddingComputed, REGISTRY_ENDPOINTS, STREAMS } from "@speakers/events";
import { policyFor } from "@speakers/scoring";
import { devFiles, devSpeakers } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RegistryContext } from "../src/context.js";
import { DEFAULT_ENROLLMENT_POLICY } from "../src/enrollment-policy.js";
import { HouseholdScoring } from "../src/household-scoring.js";
import { HouseholdSources } from "../src/household-sources.js";
import { handleEmbeddingComputed } from "../src/identify.js";
import { openBuckets, RegistryStore } from "../src/store/registry-store.js";
import { SampleView } from "../src/store/sample-view.js";
import { StateView } from "../src/store/state-view.js";
import { VoiceprintView } from "../src/store/voiceprint-view.js";
import { enrollFiles, listSpeakers } from "./support/requests.js";
import { type Stack, startStack } from "./support/stack.js";
import { drained, publishClip, readStream, type StoredMessage } from "./support/streams.js";

const ep = REGISTRY_ENDPOINTS;
let stack: Stack;
const [A, B, C, D, E] = devSpeakers();

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

const about = (m: StoredMessage, id: string) => m.json?.speaker?.id === id || m.json?.speakerId === id;
const erase = (speakerId: string) => stack.ask(ep.delete, { speakerId });

describe("erasure", () => {
  it("removes the speaker's events and leaves every other speaker's events as they were", async () => {
    const names = { [A as string]: "Quintessa", [B as string]: "Barnaby", [C as string]: "Cordelia" };
    const ids: Record<string, string> = {};
    for (const s of [A, B, C] as string[]) {
      const enrolled = await enrollFiles(stack, names[s] as string, devFiles(s).slice(0, 3));
      ids[s] = enrolled.speaker?.id as string;
    }
    const gone = ids[A as string] as string;
    const heard = new Map<string, string[]>();
    for (const s of [A, B, C] as string[]) {
      const sent: string[] = [];
      for (const f of devFiles(s).slice(3, 7)) sent.push(await publishClip(stack, f, `room-${s}`));
      heard.set(s, sent);
    }
    await drained(stack);

    const before = await readStream(stack, STREAMS.SPEAKERS.name);
    const others = before.filter((m) => !about(m, gone));
    const theirs = before.filter((m) => about(m, gone));
    expect(theirs.length).toBeGreaterThan(0);
    // Every other voice's identification ranks all three enrolled speakers, the erased one included: on the
    // old design that made them hers too, and they were erased with her.
    const othersIdentified = others.filter((m) => m.subject === "speaker.identified");
    expect(othersIdentified).toHaveLength(8);
    for (const m of othersIdentified) expect(m.json?.candidates).toHaveLength(3);
    const ref = (await listSpeakers(stack)).speakers.find((s) => s.id === gone)?.ref;

    await erase(gone);

    const after = await readStream(stack, STREAMS.SPEAKERS.name);
    const othersAfter = after.filter((m) => !about(m, gone));
    expect({ before: others.length, after: othersAfter.length }).toEqual({
      before: others.length,
      after: others.length,
    });
    expect(othersAfter.map((m) => m.id)).toEqual(others.map((m) => m.id));
    expect(othersAfter.map((m) => m.text)).toEqual(others.map((m) => m.text));
    expect(ref).toMatch(/^ref_/);
    // Of hers, only the deletion itself, with no name; and nothing stored says who the ref was.
    expect(after.filter((m) => about(m, gone)).map((m) => m.subject)).toEqual(["speaker.deleted"]);
    for (const m of after) {
      expect(m.text).not.toContain("Quintessa");
      if (m.subject !== "speaker.deleted") expect(m.text).not.toContain(gone);
    }
    expect((await listSpeakers(stack)).speakers.map((s) => s.ref)).not.toContain(ref);

    // Her audio is gone; everyone else's is still there.
    const audio = new Set((await readStream(stack, STREAMS.AUDIO.name)).map((m) => m.id));
    for (const id of heard.get(A as string) ?? []) expect(audio.has(id)).toBe(false);
    for (const s of [B, C] as string[]) for (const id of heard.get(s) ?? []) expect(audio.has(id)).toBe(true);

    for (const s of [B, C] as string[]) await erase(ids[s] as string);
  });

  it("an identification in flight during the delete never names the speaker afterwards", async () => {
    const target = (await enrollFiles(stack, "Theodora", devFiles(D as string).slice(0, 3))).speaker
      ?.id as string;
    await enrollFiles(stack, "Barnaby", devFiles(B as string).slice(0, 3));
    const files = devFiles(D as string).slice(3);
    let sending = true;
    let sent = 0;
    const sentIds: string[] = [];
    // Her voice keeps arriving, before, during and after the delete.
    const traffic = (async () => {
      while (sending) {
        sentIds.push(await publishClip(stack, files[sent % files.length] as string, "hall"));
        sent++;
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    await new Promise((r) => setTimeout(r, 4_000));
    const reply = await erase(target);
    expect(reply.speakerId).toBe(target);
    const atDelete = sent;
    await new Promise((r) => setTimeout(r, 2_000));
    sending = false;
    await traffic;
    await drained(stack);
    expect(sent - atDelete).toBeGreaterThan(5);

    const stored = await readStream(stack, STREAMS.SPEAKERS.name);
    const naming = stored.filter((m) => m.subject === "speaker.identified" && m.json?.speaker?.id === target);
    expect(naming.map((m) => ({ seq: m.seq, score: m.json?.score }))).toEqual([]);
    for (const m of stored) {
      expect(m.text).not.toContain("Theodora");
      if (m.subject !== "speaker.deleted") expect(m.text).not.toContain(target);
    }
    // Clips heard after the delete are still identified: as a stranger's voice now.
    const afterIds = new Set(sentIds.slice(atDelete));
    const later = stored.filter(
      (m) => m.subject === "speaker.identified" && afterIds.has(m.json?.sourceEventId),
    );
    expect(later.length).toBeGreaterThan(0);
  });

  it("a replica that scored the speaker before the fence and publishes after the delete erases its event", async () => {
    const target = (await enrollFiles(stack, "Ottoline", devFiles(E as string).slice(0, 3))).speaker
      ?.id as string;
    const heard = await publishClip(stack, devFiles(E as string)[4] as string, "porch");
    await drained(stack);
    const stored = (await readStream(stack, STREAMS.EMBEDDINGS.name)).find(
      (m) => m.json?.sourceEventId === heard,
    ) as StoredMessage;
    const consumer = await stack.bus.js.consumers.get(STREAMS.EMBEDDINGS.name, { opt_start_seq: stored.seq });
    const msg = await consumer.next({ expires: 5_000 });
    if (msg === null) throw new Error("the embedding is not in the stream");

    // A second replica whose voiceprint watch stopped before the delete: it still scores her.
    const view = await VoiceprintView.start((await openBuckets(stack.bus)).voiceprints, stack.bus.logger);
    await view.stop();
    const state = await StateView.start((await openBuckets(stack.bus)).state, stack.bus.logger);
    const samples = await SampleView.start((await openBuckets(stack.bus)).samples, stack.bus.logger);
    const lagging: RegistryContext = {
      bus: stack.bus,
      state,
      store: new RegistryStore(await openBuckets(stack.bus), view, samples),
      embedder: createEmbeddingClient(stack.bus),
      embedderFor: (model) => createEmbeddingClient(stack.bus, { model }),
      liveModel: () => stack.registry.liveModel(),
      enrollment: DEFAULT_ENROLLMENT_POLICY,
      policy: (key) => policyFor(key),
      source: "/test/lagging-replica",
      logger: stack.bus.logger,
      scoring: new HouseholdScoring(() => lagging),
      sources: new HouseholdSources(
        () => stack.bus,
        () => state,
      ),
      adaptationByDefault: false,
      calibratedDecision: false,
      augmentCopies: 0,
    };
    await erase(target);

    // Her embedding reaches the lagging replica only now (a fresh delivery of the same voice).
    const delivery = {
      def: EmbeddingComputed,
      data: stored.json,
      body: msg.data,
      meta: { ...eventMeta(msg), id: `emb-${randomUUID()}` },
      logger: stack.bus.logger,
    } as Delivery<typeof EmbeddingComputed>;
    try {
      await handleEmbeddingComputed(lagging, () => stack.registry.liveModel(), delivery);
    } finally {
      await state.stop();
      await samples.stop();
    }

    const after = await readStream(stack, STREAMS.SPEAKERS.name);
    const naming = after.filter((m) => m.subject === "speaker.identified" && m.json?.speaker?.id === target);
    expect(naming.map((m) => ({ seq: m.seq, score: m.json?.score }))).toEqual([]);
  });
});
