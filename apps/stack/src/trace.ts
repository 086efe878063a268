import type { Bus } from "@speakers/bus";
import {
  AudioCaptured,
  decodeJson,
  EmbeddingComputed,
  EmbeddingFailed,
  type ErrorPayload,
  HEADERS,
  SpeakerIdentified,
} from "@speakers/events";

/** What happened to one captured clip downstream, with local arrival times (performance.now()). */
export interface Trace {
  sourceEventId: string;
  identified?: SpeakerIdentified;
  identifiedAt?: number;
  /** The worker's own time for this clip (its share of the batch's forward pass). */
  computeMs?: number;
  computedAt?: number;
  /** When the audio.captured event (capture's JetStream publish) was seen on the bus. */
  capturedAt?: number;
  failed?: ErrorPayload;
  failedAt?: number;
}

export interface Tracer {
  /** Resolves once the clip is identified or its embedding failed; rejects after `timeoutMs`. */
  wait(sourceEventId: string, timeoutMs: number): Promise<Trace>;
  stop(): Promise<void>;
}

/**
 * Follows the chain's outputs with plain core subscriptions: JetStream publishes reach them too, and a watcher
 * needs no durable state. Events that arrive before anyone waits are kept, so no race with the HTTP reply.
 */
export async function traceChain(bus: Bus): Promise<Tracer> {
  const traces = new Map<string, Trace>();
  const waiters = new Map<string, () => void>();
  const entry = (id: string): Trace => {
    let t = traces.get(id);
    if (!t) {
      t = { sourceEventId: id };
      traces.set(id, t);
    }
    return t;
  };
  const settle = (id: string) => waiters.get(id)?.();

  const subs: Array<ReturnType<Bus["nc"]["subscribe"]>> = [
    bus.nc.subscribe(AudioCaptured.filter, {
      callback: (err, msg) => {
        if (err) return;
        const id = msg.headers?.get(HEADERS.ceId);
        if (id) entry(id).capturedAt = performance.now();
      },
    }),
    bus.nc.subscribe(SpeakerIdentified.filter, {
      callback: (err, msg) => {
        if (err) return;
        const event = decodeJson(SpeakerIdentified, msg.data);
        const t = entry(event.sourceEventId);
        t.identified = event;
        t.identifiedAt = performance.now();
        settle(event.sourceEventId);
      },
    }),
    bus.nc.subscribe(EmbeddingComputed.filter, {
      callback: (err, msg) => {
        if (err) return;
        const event = decodeJson(EmbeddingComputed, msg.data);
        const t = entry(event.sourceEventId);
        if (event.computeMs !== undefined) t.computeMs = event.computeMs;
        t.computedAt = performance.now();
      },
    }),
    bus.nc.subscribe(EmbeddingFailed.filter, {
      callback: (err, msg) => {
        if (err) return;
        const event = decodeJson(EmbeddingFailed, msg.data);
        const t = entry(event.sourceEventId);
        t.failed = event.error;
        t.failedAt = performance.now();
        settle(event.sourceEventId);
      },
    }),
  ];
  // Subscriptions are live once the server has them; without this the first clip's events could be missed.
  await bus.nc.flush();

  return {
    wait(sourceEventId, timeoutMs) {
      const done = () => {
        const t = traces.get(sourceEventId);
        return t && (t.identified || t.failed) ? t : undefined;
      };
      const now = done();
      if (now) {
        traces.delete(sourceEventId);
        return Promise.resolve(now);
      }
      return new Promise<Trace>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(sourceEventId);
          reject(new Error(`no speaker.identified for ${sourceEventId} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.set(sourceEventId, () => {
          const t = done();
          if (!t) return;
          clearTimeout(timer);
          waiters.delete(sourceEventId);
          traces.delete(sourceEventId);
          resolve(t);
        });
      });
    },
    async stop() {
      for (const sub of subs) sub.unsubscribe();
    },
  };
}
