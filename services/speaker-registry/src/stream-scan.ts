/**
 * Reading a stream front to back with an ordered consumer. The registry does this rarely (finding an earlier
 * audio event by id, erasing a speaker), so a scan over a home's 30 days of history is acceptable.
 */
import type { JsMsg } from "@nats-io/jetstream";
import type { Bus } from "@speakers/bus";
import { HEADERS } from "@speakers/events";

export interface ScanOptions {
  filterSubjects?: string[];
  /** Skip the bodies (audio): ids and metadata are in the headers. */
  headersOnly?: boolean;
}

/** Calls `visit` for each message in order; resolves after the last message present when the scan started. */
export async function scanStream(
  bus: Bus,
  stream: string,
  options: ScanOptions,
  visit: (msg: JsMsg) => void | Promise<void>,
): Promise<void> {
  const consumer = await bus.js.consumers.get(stream, {
    ...(options.filterSubjects === undefined ? {} : { filter_subjects: options.filterSubjects }),
    ...(options.headersOnly ? { headers_only: true } : {}),
  });
  const info = await consumer.info(true);
  if (info.num_pending === 0) {
    await consumer.delete().catch(() => {});
    return;
  }
  const messages = await consumer.consume({ max_messages: 256 });
  try {
    for await (const msg of messages) {
      await visit(msg);
      if (msg.info.pending === 0) break;
    }
  } finally {
    await messages.close();
  }
}

/** The stream sequence of each message whose ce-id is in `ids`. */
export async function findByEventIds(
  bus: Bus,
  stream: string,
  ids: ReadonlySet<string>,
  filterSubjects?: string[],
): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  if (ids.size === 0) return found;
  await scanStream(
    bus,
    stream,
    { headersOnly: true, ...(filterSubjects ? { filterSubjects } : {}) },
    (msg) => {
      const id = msg.headers?.get(HEADERS.ceId);
      if (id && ids.has(id)) found.set(id, msg.seq);
    },
  );
  return found;
}
