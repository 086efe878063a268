import { type Bus, publish } from "@speakers/bus";
import { connectTestBus, type TestBus as TestBusOn } from "@speakers/bus/testing";
import type { SpeakerIdentified as SpeakerIdentifiedPayload } from "@speakers/events";
import { SpeakerIdentified } from "@speakers/events";
import { type NatsServer, startNatsServer } from "@speakers/nats-testing";

export { eventually, sleep } from "@speakers/bus/testing";
export { DEV_AUDIO, type DevClip, devClips } from "@speakers/nats-testing";

export type TestBus = TestBusOn<NatsServer>;

/** A real nats-server with the system's topology provisioned, and a bus that reconnects quickly. */
export async function startTestBus(name: string): Promise<TestBus> {
  return connectTestBus(await startNatsServer(), name);
}

let identifiedNo = 0;

/** Publishes a `speaker.identified` event (the registry's output) as plugins receive it; returns its id. */
export async function publishIdentified(
  bus: Bus,
  overrides: Partial<SpeakerIdentifiedPayload> & { name?: string; room?: string; unknown?: boolean } = {},
): Promise<string> {
  const { name = "Alice", room = "kitchen", unknown = false, ...rest } = overrides;
  const n = ++identifiedNo;
  const payload: SpeakerIdentifiedPayload = {
    ...SpeakerIdentified.fixture,
    sourceEventId: `audio-${n}-${Date.now()}`,
    embeddingEventId: `emb-${n}-${Date.now()}`,
    speaker: { id: `spk_${name.toLowerCase()}`, name },
    candidates: [{ ref: "ref_00000000000000000000", score: 0.82 }],
    source: { service: "audio-capture", deviceId: `${room}-satellite`, room },
    capturedAt: new Date().toISOString(),
    ...rest,
  };
  if (unknown) {
    payload.decision = "unknown";
    delete payload.speaker;
  }
  const result = await publish(bus, SpeakerIdentified, payload, { source: "/test/registry" });
  return result.id;
}
