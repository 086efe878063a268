/** Reads a stream's stored messages once, from a start point to the end as it was when the scan began. */
import { type ConsumerConfig, DeliverPolicy, type JsMsg } from "@nats-io/jetstream";
import type { Bus } from "@speakers/bus";

export interface ScanOptions {
  filter: string;
  /** Where to start: the first message (default), a stream sequence or a time. */
  start?: { seq: number } | { time: string };
  /** Only the headers (AUDIO bodies are audio; the report needs ids). */
  headersOnly?: boolean;
}

export async function scan(
  bus: Bus,
  stream: string,
  options: ScanOptions,
  each: (msg: JsMsg) => void,
): Promise<number> {
  const start = options.start;
  const config: Partial<ConsumerConfig> = {
    filter_subjects: [options.filter],
    ...(options.headersOnly ? { headers_only: true } : {}),
    ...(start === undefined
      ? { deliver_policy: DeliverPolicy.All }
      : "seq" in start
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start.seq }
        : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: start.time }),
  };
  const consumer = await bus.js.consumers.get(stream, config);
  let remaining = (await consumer.info(true)).num_pending;
  let count = 0;
  // An ordered consumer replays in order; `pending` says how many are left, so the loop ends at the end as
  // it was when the scan began (anything published meanwhile is not waited for).
  while (remaining > 0) {
    const batch = await consumer.fetch({ max_messages: Math.min(remaining, 500), expires: 5_000 });
    let got = 0;
    for await (const msg of batch) {
      each(msg);
      got += 1;
      count += 1;
      remaining = msg.info.pending;
    }
    if (got === 0) break;
  }
  await consumer.delete().catch(() => undefined);
  return count;
}
