import type { JsMsg } from "@nats-io/jetstream";
import type { Bus } from "@speakers/bus";
import { HEADERS } from "@speakers/events";

export interface Stored {
  subject: string;
  id: string;
  json: Record<string, unknown>;
}

/** Every message now in `stream` on `filter`, with its ce-id and its JSON (the body, or Speakers-Meta for audio). */
export async function readStream(bus: Bus, stream: string, filter: string): Promise<Stored[]> {
  const consumer = await bus.js.consumers.get(stream, { filter_subjects: [filter] });
  const pending = (await consumer.info()).num_pending;
  const out: Stored[] = [];
  while (out.length < pending) {
    const m: JsMsg | null = await consumer.next({ expires: 5_000 });
    if (!m) break;
    const meta = m.headers?.get(HEADERS.meta);
    out.push({
      subject: m.subject,
      id: m.headers?.get(HEADERS.ceId) ?? "",
      json: JSON.parse(meta ? meta : new TextDecoder().decode(m.data)),
    });
  }
  await consumer.delete().catch(() => {});
  return out;
}
