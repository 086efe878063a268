import type { JetStreamManager } from "@nats-io/jetstream";

/**
 * True once a durable has been handed, and has acked, every message of its stream that its filters take.
 *
 * `num_pending` alone is not enough: nats-server acks a publish before it counts the message into each
 * consumer's pending (a separate goroutine does that), so right after a publish a consumer can report
 * 0 pending for a message it has not seen. The last stored message under each filter settles it.
 *
 * Not for a consumer whose filter has changed: the messages under the new filter that it had already passed
 * while filtering something else are never delivered, so the last of them can stay above its delivered sequence.
 */
export async function consumerIdle(jsm: JetStreamManager, stream: string, durable: string): Promise<boolean> {
  const info = await jsm.consumers.info(stream, durable);
  if (info.num_pending > 0 || info.num_ack_pending > 0) return false;
  const { filter_subjects, filter_subject } = info.config;
  const filters = filter_subjects?.length ? filter_subjects : [filter_subject || ">"];
  for (const subject of filters) {
    const last = await jsm.streams.getMessage(stream, { last_by_subj: subject });
    if (last !== null && last.seq > info.delivered.stream_seq) return false;
  }
  return true;
}
