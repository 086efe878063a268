import type { JsMsg } from "@nats-io/jetstream";
import { HEADERS } from "@speakers/events";

/** What the envelope (CloudEvents headers and JetStream delivery info) says about one delivered event. */
export interface EventMeta {
  /** ce-id (falls back to Nats-Msg-Id, then `<stream>:<seq>` for a message published without one). */
  id: string;
  /** ce-type, the versioned type id. */
  type: string;
  source: string;
  time: string;
  /** ce-correlationid: the first event of the chain; the event's own id when it starts one. */
  correlationId: string;
  contentType: string;
  subject: string;
  stream: string;
  /** Stream sequence. */
  seq: number;
  redelivered: boolean;
  deliveryCount: number;
  headers: Record<string, string>;
}

/** Structural, so headers from @nats-io/services (built on an older nats-core) fit too. */
export function headerRecord(
  h: { keys(): string[]; get(key: string): string } | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  for (const key of h.keys()) out[key] = h.get(key);
  return out;
}

export function eventMeta(msg: JsMsg): EventMeta {
  const headers = headerRecord(msg.headers);
  const h = (name: string) => msg.headers?.get(name) || undefined;
  const id = h(HEADERS.ceId) ?? h(HEADERS.natsMsgId) ?? `${msg.info.stream}:${msg.seq}`;
  return {
    id,
    type: h(HEADERS.ceType) ?? "",
    source: h(HEADERS.ceSource) ?? "",
    time: h(HEADERS.ceTime) ?? msg.time.toISOString(),
    correlationId: h(HEADERS.ceCorrelationId) ?? id,
    contentType: h(HEADERS.ceDataContentType) ?? "",
    subject: msg.subject,
    stream: msg.info.stream,
    seq: msg.seq,
    redelivered: msg.redelivered,
    deliveryCount: msg.info.deliveryCount,
    headers,
  };
}
