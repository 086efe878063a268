/**
 * The Live page's feed: `speaker.identified` read from the SPEAKERS stream with an ordered consumer. Each event
 * is numbered by its stream sequence, so a browser that reconnects with `Last-Event-ID: <seq>` resumes right
 * after the last event it saw: nothing is shown twice and nothing is skipped.
 */
import { DeliverPolicy } from "@nats-io/jetstream";
import type { Bus } from "@speakers/bus";
import { decodeJson, SpeakerIdentified, STREAMS } from "@speakers/events";

export interface FeedItem {
  seq: number;
  /** When the registry published it. */
  time: string;
  event: SpeakerIdentified;
}

export interface FeedOptions {
  /** Resume after this stream sequence; undefined: start with the most recent `backlog` identifications. */
  afterSeq: number | undefined;
  backlog: number;
  onItem(item: FeedItem): void;
  onError(err: unknown): void;
}

/** Starts following; the returned function stops. */
export async function followIdentified(bus: Bus, options: FeedOptions): Promise<() => Promise<void>> {
  const stream = STREAMS.SPEAKERS.name;
  const startSeq =
    options.afterSeq !== undefined ? options.afterSeq + 1 : await backlogStart(bus, options.backlog);
  const consumer = await bus.js.consumers.get(stream, {
    filter_subjects: [SpeakerIdentified.filter],
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: Math.max(1, startSeq),
  });
  const messages = await consumer.consume({ max_messages: 64 });
  const done = (async () => {
    try {
      for await (const msg of messages) {
        let event: SpeakerIdentified;
        try {
          event = decodeJson(SpeakerIdentified, msg.data);
        } catch {
          continue; // the registry dead-letters nothing here; a foreign publisher's junk is simply not shown
        }
        options.onItem({ seq: msg.seq, time: new Date(msg.info.timestampNanos / 1e6).toISOString(), event });
      }
    } catch (err) {
      options.onError(err);
    }
  })();
  return async () => {
    await messages.close();
    await done;
  };
}

/** The sequence to start at so that about the last `backlog` identifications are shown first. */
async function backlogStart(bus: Bus, backlog: number): Promise<number> {
  const info = await bus.jsm.streams.info(STREAMS.SPEAKERS.name);
  const last = info.state.last_seq;
  // Other SPEAKERS subjects are interleaved, so walk back over a window and let the filter pick.
  if (backlog === 0) return last + 1;
  const window = backlog * 4;
  return Math.max(1, last - window + 1);
}
