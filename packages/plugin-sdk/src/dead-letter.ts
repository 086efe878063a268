import { headers as natsHeaders } from "@nats-io/nats-core";
import { type Bus, DEAD_LETTER_HEADERS, type Delivery } from "@speakers/bus";
import { type ErrorCode, HEADERS } from "@speakers/events";

/** `deadletter.plugin.<name>.<original subject>`: each plugin's failures are found (and replayed) on their own. */
export function pluginDeadLetterSubject(plugin: string, subject: string): string {
  return `deadletter.plugin.${plugin}.${subject}`;
}

/**
 * Copies an event a plugin could not handle to its dead letters, with the reason. The Nats-Msg-Id names the
 * stream position and consumer, so a crash between this publish and the ack stores it once.
 */
export async function deadLetterForPlugin(
  bus: Bus,
  plugin: string,
  consumer: string,
  delivery: Delivery,
  why: { code: ErrorCode; reason: string },
): Promise<number> {
  const h = natsHeaders();
  for (const [key, value] of Object.entries(delivery.meta.headers)) h.set(key, value);
  h.set(HEADERS.deadReason, why.reason.replace(/[\r\n]+/g, " ").slice(0, 2_000));
  h.set(HEADERS.deadCode, why.code);
  h.set(DEAD_LETTER_HEADERS.stream, delivery.meta.stream);
  h.set(DEAD_LETTER_HEADERS.seq, String(delivery.meta.seq));
  h.set(DEAD_LETTER_HEADERS.consumer, consumer);
  h.set(DEAD_LETTER_HEADERS.deliveries, String(delivery.meta.deliveryCount));
  const msgId = `dead:${delivery.meta.stream}:${delivery.meta.seq}:${consumer}`;
  h.set(HEADERS.natsMsgId, msgId);
  const ack = await bus.js.publish(pluginDeadLetterSubject(plugin, delivery.meta.subject), delivery.body, {
    msgID: msgId,
    headers: h,
  });
  return ack.seq;
}
