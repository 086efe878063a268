import { type ConsumerMessages, DeliverPolicy } from "@nats-io/jetstream";
import type { Bus } from "@speakers/bus";
import { decodeJson, SpeakerIdentified, STREAMS } from "@speakers/events";

export interface Identified {
  event: SpeakerIdentified;
  /** Its sequence in SPEAKERS, to tell when a plugin's consumer has handled it. */
  seq: number;
}

export interface Expectation {
  /**
   * The utterance's speaker.identified once every awaited plugin has acked it. Never rejects; it stays
   * pending when the event never comes, so race it against a deadline (`within`).
   */
  readonly ready: Promise<Identified>;
  /** Stops waiting and polling; call when the answer has gone out. */
  cancel(): void;
}

export interface IdentificationWatch {
  start(): Promise<void>;
  /** Call before the audio is published, so its identification cannot arrive unseen. */
  expect(sourceEventId: string): Expectation;
  /** Utterances still waiting (for the leak checks). */
  readonly pending: number;
  stop(): Promise<void>;
}

const POLL_MS = 5;

/**
 * Follows speaker.identified on SPEAKERS with one ordered consumer from "now", and hands each one to the
 * utterance waiting for it. Waiting for the event alone is not enough for Home Assistant: the plugin that
 * updates MQTT receives it at the same moment as we do. So the wait also covers the awaited plugins' durable
 * consumers acking past it (the SDK acks after the handler, and the MQTT plugin's handler awaits the broker's
 * PUBACK).
 */
export function createIdentificationWatch(bus: Bus, awaitPlugins: readonly string[]): IdentificationWatch {
  const waiting = new Map<string, (identified: Identified) => void>();
  let messages: ConsumerMessages | undefined;
  let loop: Promise<void> | undefined;

  const deliver = (identified: Identified) => {
    const id = identified.event.sourceEventId;
    const resolve = waiting.get(id);
    if (resolve) resolve(identified);
  };

  const ackedBy = async (durable: string, seq: number): Promise<boolean | undefined> => {
    try {
      const info = await bus.jsm.consumers.info(STREAMS.SPEAKERS.name, durable);
      return info.ack_floor.stream_seq >= seq;
    } catch {
      return undefined; // that plugin is not running here: nothing to wait for
    }
  };

  const pluginsDone = async (seq: number, cancelled: () => boolean): Promise<void> => {
    const left = awaitPlugins.map((name) => `plugin-${name}`);
    while (left.length > 0 && !cancelled()) {
      for (let i = left.length - 1; i >= 0; i--) {
        const acked = await ackedBy(left[i] as string, seq);
        if (acked !== false) left.splice(i, 1);
      }
      if (left.length > 0) await sleep(POLL_MS);
    }
  };

  return {
    get pending() {
      return waiting.size;
    },
    async start() {
      const consumer = await bus.js.consumers.get(STREAMS.SPEAKERS.name, {
        filter_subjects: [SpeakerIdentified.filter],
        deliver_policy: DeliverPolicy.New,
      });
      const iterator = await consumer.consume();
      messages = iterator;
      loop = (async () => {
        for await (const m of iterator) {
          try {
            deliver({ event: decodeJson(SpeakerIdentified, m.data), seq: m.seq });
          } catch (err) {
            bus.logger.warn({ err, seq: m.seq }, "skipping a speaker.identified that breaks the contract");
          }
        }
      })();
    },
    expect(sourceEventId) {
      let cancelled = false;
      const arrived = new Promise<Identified>((resolve) => {
        waiting.set(sourceEventId, (identified) => {
          waiting.delete(sourceEventId);
          resolve(identified);
        });
      });
      const ready = arrived.then(async (identified) => {
        await pluginsDone(identified.seq, () => cancelled);
        return identified;
      });
      return {
        ready,
        cancel() {
          cancelled = true;
          waiting.delete(sourceEventId);
        },
      };
    },
    async stop() {
      await messages?.close();
      await loop?.catch(() => {});
      waiting.clear();
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The promise's value if it settles before `deadline` (a `performance.now()` time), else undefined. */
export async function within<T>(promise: Promise<T>, deadline: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - performance.now()));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
