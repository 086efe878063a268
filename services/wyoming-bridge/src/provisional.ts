import { type Bus, call, publish } from "@speakers/bus";
import {
  IdentifyMeta,
  IdentifyReply,
  SERVICES,
  SpeakerProvisional,
  type SpeakerProvisional as SpeakerProvisionalPayload,
} from "@speakers/events";
import { bytesToMs, type PcmFormat, wav } from "./pcm.js";

export const CE_SOURCE = "/services/wyoming-bridge";

export interface ProvisionalInput {
  sourceEventId: string;
  pcm: Uint8Array;
  format: PcmFormat;
  speechMs: number;
  source: SpeakerProvisionalPayload["source"];
  capturedAt: string;
}

/**
 * The early guess: the audio so far through the registry's `identify` (which changes nothing), published as
 * speaker.provisional. The final speaker.identified, from the whole utterance, follows through the chain.
 */
export async function identifyProvisionally(bus: Bus, input: ProvisionalInput): Promise<void> {
  const reply = await call(bus, SERVICES.registry.endpoints.identify, {
    request: IdentifyMeta,
    payload: { format: "wav" },
    body: wav(input.pcm, input.format),
    reply: IdentifyReply,
    timeoutMs: 10_000,
    unavailableCode: "WORKER_UNAVAILABLE",
  });
  const event: SpeakerProvisionalPayload = {
    sourceEventId: input.sourceEventId,
    decision: reply.decision,
    ...(reply.speaker === undefined ? {} : { speaker: reply.speaker }),
    score: reply.score,
    margin: reply.margin,
    threshold: reply.threshold,
    marginThreshold: reply.marginThreshold,
    candidates: reply.candidates,
    model: reply.model,
    audioMs: Math.round(bytesToMs(input.pcm.length, input.format)),
    speechMs: input.speechMs,
    ...(input.source === undefined ? {} : { source: input.source }),
    capturedAt: input.capturedAt,
  };
  await publish(bus, SpeakerProvisional, event, {
    id: `provisional-${input.sourceEventId}`,
    correlationId: input.sourceEventId,
    source: CE_SOURCE,
  });
}
