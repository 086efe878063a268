import type { JsMsg } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/nats-core";
import { deadLetterSubject, type ErrorCode, HEADERS } from "@speakers/events";
import type { Bus } from "./connect.js";

/** Where the dead letter came from, beside ADR 0001's reason and code, so it can be found and replayed. */
export const DEAD_LETTER_HEADERS = {
  stream: "Speakers-Dead-Stream",
  seq: "Speakers-Dead-Seq",
  consumer: "Speakers-Dead-Consumer",
  deliveries: "Speakers-Dead-Deliveries",
} as const;

const MAX_REASON_LENGTH = 2_000;

export interface DeadLetterReason {
  code: ErrorCode;
  reason: string;
  consumer: string;
}

/**
 * Copies a message that will never be processed to `deadletter.<subject>` with its body, its headers and why.
 * The Nats-Msg-Id names the stream position and consumer, so dead-lettering the same delivery twice (a crash
 * between publish and term) stores it once.
 */
export async function deadLetter(bus: Bus, msg: JsMsg, why: DeadLetterReason): Promise<number> {
  const h = natsHeaders();
  for (const [key, values] of msg.headers ?? []) {
    for (const value of values) h.append(key, value);
  }
  const reason = why.reason.replace(/[\r\n]+/g, " ").slice(0, MAX_REASON_LENGTH);
  h.set(HEADERS.deadReason, reason);
  h.set(HEADERS.deadCode, why.code);
  h.set(DEAD_LETTER_HEADERS.stream, msg.info.stream);
  h.set(DEAD_LETTER_HEADERS.seq, String(msg.seq));
  h.set(DEAD_LETTER_HEADERS.consumer, why.consumer);
  h.set(DEAD_LETTER_HEADERS.deliveries, String(msg.info.deliveryCount));
  const msgId = `dead:${msg.info.stream}:${msg.seq}:${why.consumer}`;
  h.set(HEADERS.natsMsgId, msgId);
  const ack = await bus.js.publish(deadLetterSubject(msg.subject), msg.data, { msgID: msgId, headers: h });
  return ack.seq;
}
