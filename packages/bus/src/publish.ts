import { randomUUID } from "node:crypto";
import type { PubAck } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/nats-core";
import {
  CE_SPEC_VERSION,
  type EventDefinition,
  encodeJson,
  encodeMeta,
  HEADERS,
  JSON_CONTENT_TYPE,
  type PayloadOf,
  SpeakersError,
  validate,
} from "@speakers/events";
import { type Bus, errorText } from "./connect.js";

/** Covers a server restart or a JetStream leader change (nats.js backs off up to a few seconds). */
const PUBLISH_RETRIES = 6;

export interface PublishOptions<D extends EventDefinition = EventDefinition> {
  /** ce-id and Nats-Msg-Id. Derived events pass a deterministic id (ADR rule 4); default: a UUID v4. */
  id?: string;
  /** The id of the first event of the chain; defaults to this event's id (it starts a chain). */
  correlationId?: string;
  /** ce-source, e.g. `/services/audio-capture`. */
  source: string;
  /** Audio bytes of an audio event (ADR rule 3); empty or absent when the audio is in the Object Store. */
  body?: Uint8Array;
  /** ce-datacontenttype of an audio body, e.g. from `audioContentType(format)`. Required for audio events. */
  contentType?: string;
  /** Argument of the definition's subject() (a source device, a model); default: the payload's own subject. */
  token?: Parameters<D["subject"]>[0];
  /** ce-time; default now. */
  time?: Date;
  /** Extra headers (never the ce-* ones, which this function owns). */
  headers?: Record<string, string>;
}

export interface PublishResult {
  id: string;
  stream: string;
  seq: number;
  /** True when JetStream already held this id inside the duplicate window and stored nothing. */
  duplicate: boolean;
}

/**
 * Validates, then publishes an event with CloudEvents binary-mode headers and Nats-Msg-Id = ce-id, so a retried
 * publish (here or by a redelivered producer) is stored once.
 */
export async function publish<D extends EventDefinition>(
  bus: Bus,
  def: D,
  payload: PayloadOf<D>,
  options: PublishOptions<D>,
): Promise<PublishResult> {
  // Validate before deriving the subject from the payload, so a bad payload is INVALID_EVENT, not a TypeError.
  validate(def, payload);
  const id = options.id ?? randomUUID();
  const subject =
    options.token === undefined
      ? def.subjectFor(payload)
      : (def.subject as (token: unknown) => string)(options.token);
  const h = natsHeaders();
  for (const [key, value] of Object.entries(options.headers ?? {})) h.set(key, value);
  h.set(HEADERS.ceSpecVersion, CE_SPEC_VERSION);
  h.set(HEADERS.ceId, id);
  h.set(HEADERS.ceType, def.typeId);
  h.set(HEADERS.ceSource, options.source);
  h.set(HEADERS.ceTime, (options.time ?? new Date()).toISOString());
  h.set(HEADERS.ceCorrelationId, options.correlationId ?? id);
  h.set(HEADERS.natsMsgId, id);

  let data: Uint8Array;
  if (def.body === "audio") {
    if (!options.contentType) {
      throw new SpeakersError(
        "INVALID_EVENT",
        `${def.typeId} carries audio: pass contentType (the audio media type)`,
      );
    }
    h.set(HEADERS.ceDataContentType, options.contentType);
    h.set(HEADERS.meta, encodeMeta(def, payload));
    data = options.body ?? new Uint8Array(0);
  } else {
    if (options.body !== undefined) {
      throw new SpeakersError("INVALID_EVENT", `${def.typeId} is a JSON event: its payload is the body`);
    }
    h.set(HEADERS.ceDataContentType, JSON_CONTENT_TYPE);
    data = encodeJson(def, payload);
  }

  let ack: PubAck;
  try {
    // Retrying with the same Nats-Msg-Id is safe: a publish that did land is stored once.
    ack = await bus.js.publish(subject, data, { msgID: id, headers: h, retries: PUBLISH_RETRIES });
  } catch (err) {
    throw new SpeakersError(
      "BUS_UNAVAILABLE",
      `publish of ${def.typeId} to ${subject} failed (is JetStream up and a stream bound to it?): ${errorText(err)}`,
      { cause: err, details: { subject, eventId: id } },
    );
  }
  bus.logger.debug(
    {
      eventId: id,
      correlationId: options.correlationId ?? id,
      subject,
      seq: ack.seq,
      duplicate: ack.duplicate,
    },
    "published",
  );
  return { id, stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
}
