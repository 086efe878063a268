import { type Bus, publish } from "@speakers/bus";
import { SpeakerIdentified, type SpeakerIdentified as SpeakerIdentifiedPayload } from "@speakers/events";

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
