/**
 * One batch of captured audio into one model's space: fetch each clip's bytes (the message body, or the
 * Object Store when the event carries a reference), embed the batch with a worker of that model, publish
 * `embedding.computed.<model token>` (or `embedding.failed`) with the deterministic id, then ack. A resumed
 * replay that meets an event again publishes the same id, which JetStream stores once (duplicate window).
 */
import type { JsMsg } from "@nats-io/jetstream";
import { audioOf, type Bus, eventMeta, publish } from "@speakers/bus";
import type { BatchClip, EmbeddingClient } from "@speakers/embedding-client";
import {
  AudioCaptured,
  decodeMeta,
  EmbeddingComputed,
  EmbeddingFailed,
  type ErrorPayload,
  embeddingEventId,
  HEADERS,
  isSpeakersError,
  type ModelRef,
  REPLAY_SOURCE,
  toErrorPayload,
} from "@speakers/events";

export interface BatchOutcome {
  embedded: number;
  failed: number;
  /** Messages that are not a valid audio.captured (the live consumer dead-letters them; replay skips). */
  skipped: number;
}

interface Item {
  msg: JsMsg;
  id: string;
  correlationId: string;
  event: AudioCaptured;
  clip?: BatchClip;
  error?: ErrorPayload;
}

export async function embedBatch(
  bus: Bus,
  embedder: Pick<EmbeddingClient, "extractBatch">,
  model: ModelRef,
  msgs: readonly JsMsg[],
): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { embedded: 0, failed: 0, skipped: 0 };
  const items: Item[] = [];
  for (const msg of msgs) {
    const meta = eventMeta(msg);
    let event: AudioCaptured;
    try {
      event = decodeMeta(AudioCaptured, meta.headers[HEADERS.meta]);
    } catch (err) {
      bus.logger.warn({ err, seq: meta.seq }, "not a valid audio.captured; skipped");
      outcome.skipped += 1;
      continue;
    }
    const item: Item = { msg, id: meta.id, correlationId: meta.correlationId, event };
    try {
      const bytes = await audioOf(bus, event.audio, msg.data);
      item.clip = {
        audio: bytes,
        format: event.format.encoding,
        sampleRate: event.format.sampleRate,
        channels: event.format.channels,
      };
    } catch (err) {
      // A clip past the Object Store's retention is an answer about this event, not a reason to stop.
      if (!isSpeakersError(err) || err.code !== "AUDIO_OBJECT_NOT_FOUND") throw err;
      item.error = toErrorPayload(err);
    }
    items.push(item);
  }

  const toEmbed = items.filter((i) => i.clip !== undefined);
  if (toEmbed.length > 0) {
    const result = await embedder.extractBatch(toEmbed.map((i) => i.clip as BatchClip));
    for (const r of result.items) {
      const item = toEmbed[r.index];
      if (item === undefined) continue;
      if (r.ok) {
        await publish(
          bus,
          EmbeddingComputed,
          {
            sourceEventId: item.id,
            source: item.event.source,
            capturedAt: item.event.capturedAt,
            model,
            vector: r.embedding.vector,
            durationMs: r.embedding.durationMs,
            computeMs: r.embedding.computeMs,
          },
          { id: embeddingEventId(item.id, model), correlationId: item.correlationId, source: REPLAY_SOURCE },
        );
        outcome.embedded += 1;
      } else {
        item.error = r.error;
      }
    }
  }
  for (const item of items) {
    if (item.error === undefined) continue;
    await publish(
      bus,
      EmbeddingFailed,
      { sourceEventId: item.id, model, error: item.error },
      { id: embeddingEventId(item.id, model), correlationId: item.correlationId, source: REPLAY_SOURCE },
    );
    outcome.failed += 1;
  }
  return outcome;
}
