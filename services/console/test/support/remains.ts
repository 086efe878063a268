import { Kvm } from "@nats-io/kv";
import { type Bus, call } from "@speakers/bus";
import {
  KV_BUCKETS,
  LastHeardList,
  LastHeardRequest,
  SERVICES,
  SpeakerDetail,
  SpeakerIdRequest,
  STREAMS,
} from "@speakers/events";

/** Everything NATS still holds about a speaker id: an empty result means the erasure was complete. */
export async function whatRemainsOf(bus: Bus, speakerId: string, audioEventIds: string[]): Promise<string[]> {
  const found: string[] = [];
  try {
    await call(bus, SERVICES.registry.endpoints.get, {
      request: SpeakerIdRequest,
      payload: { speakerId },
      reply: SpeakerDetail,
    });
    found.push("registry get still answers");
  } catch (err) {
    if ((err as { code?: string }).code !== "SPEAKER_NOT_FOUND") throw err;
  }
  const kvm = new Kvm(bus.js);
  for (const bucket of [
    KV_BUCKETS.speakers,
    KV_BUCKETS.speakerSamples,
    KV_BUCKETS.voiceprints,
    KV_BUCKETS.presence,
  ]) {
    const kv = await kvm.open(bucket.name);
    for await (const key of await kv.keys()) {
      // `erased.<id>` is the erasure fence (ADR 0004): it holds nothing of the person, and keeps any replica
      // or late identification from naming them again.
      if (key === `erased.${speakerId}`) continue;
      if (key.includes(speakerId)) found.push(`${bucket.name} key ${key}`);
    }
  }
  const heard = await call(bus, SERVICES.presence.endpoints.lastHeard, {
    request: LastHeardRequest,
    payload: {},
    reply: LastHeardList,
  });
  if (heard.speakers.some((r) => r.speakerId === speakerId)) found.push("presence last-heard");
  for (const stream of [STREAMS.AUDIO.name, STREAMS.EMBEDDINGS.name, STREAMS.SPEAKERS.name]) {
    const consumer = await bus.js.consumers.get(stream);
    const pending = (await consumer.info()).num_pending;
    if (pending === 0) continue;
    for await (const m of await consumer.fetch({ max_messages: pending, expires: 5000 })) {
      const id = m.headers?.get("ce-id") ?? "";
      if (stream === STREAMS.AUDIO.name && audioEventIds.includes(id)) found.push(`AUDIO event ${id}`);
      if (stream !== STREAMS.AUDIO.name && m.subject !== "speaker.deleted") {
        if (new TextDecoder().decode(m.data).includes(speakerId))
          found.push(`${stream} ${m.subject} #${m.seq}`);
      }
      if (m.info.pending === 0) break;
    }
  }
  return found;
}
