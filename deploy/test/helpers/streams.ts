import { type JsMsg, jetstream } from "@nats-io/jetstream";
import type { Bus } from "@speakers/bus";
import type { SpeakerIdentified } from "@speakers/events";

/** Visits every message in a stream now, oldest first, with an ordered consumer (what an operator can read). */
export async function scan(
  bus: Bus,
  stream: string,
  headersOnly: boolean,
  visit: (m: JsMsg) => void,
): Promise<void> {
  // A short API timeout: on nats-server 2.11 an ephemeral consumer may be placed on a dead node and its create
  // never answers (nats-server#7165); callers in a cluster retry, and should not wait 5 s for each miss.
  const js = jetstream(bus.nc, { timeout: 2_000 });
  const consumer = await js.consumers.get(stream, headersOnly ? { headers_only: true } : {});
  const pending = (await consumer.info()).num_pending;
  if (pending === 0) return;
  for await (const m of await consumer.fetch({ max_messages: pending, expires: 5_000 })) {
    visit(m);
    if (m.info.pending === 0) break;
  }
}

/** The ce-id of every message in a stream, read from the headers only. */
export async function eventIds(bus: Bus, stream: string): Promise<string[]> {
  const ids: string[] = [];
  await scan(bus, stream, true, (m) => ids.push(m.headers?.get("ce-id") ?? ""));
  return ids;
}

/** The stored `speaker.identified` events (the durable record, not what a subscriber happened to see). */
export async function storedIdentifications(bus: Bus): Promise<SpeakerIdentified[]> {
  const out: SpeakerIdentified[] = [];
  await scan(bus, "SPEAKERS", false, (m) => {
    if (m.subject === "speaker.identified") out.push(m.json<SpeakerIdentified>());
  });
  return out;
}
