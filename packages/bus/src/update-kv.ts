import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import { SpeakersError } from "@speakers/events";

export interface UpdateKvOptions {
  /** Attempts after the first one lost a race (default 10). */
  retries?: number;
}

export interface KvUpdateResult<T> {
  value: T;
  revision: number;
}

/**
 * Read-modify-write of a JSON value with compare-and-set: the write names the revision it read, so two writers
 * never overwrite each other; the loser re-reads and applies its change again. `fn` gets undefined for a missing
 * or deleted key and must be free of side effects (it can run more than once).
 */
export async function updateKv<T>(
  kv: KV,
  key: string,
  fn: (current: T | undefined) => T | Promise<T>,
  options: UpdateKvOptions = {},
): Promise<KvUpdateResult<T>> {
  const retries = options.retries ?? 10;
  for (let attempt = 0; ; attempt++) {
    const entry = await kv.get(key);
    const current = entry && entry.operation === "PUT" ? (entry.json<T>() as T) : undefined;
    const next = await fn(current);
    const data = new TextEncoder().encode(JSON.stringify(next));
    try {
      // A delete marker has a revision too: updating against it keeps the race check for deleted keys.
      const revision = entry ? await kv.update(key, data, entry.revision) : await kv.create(key, data);
      return { value: next, revision };
    } catch (err) {
      if (!isLostRace(err) || attempt >= retries) {
        if (isLostRace(err)) {
          throw new SpeakersError("CONFLICT", `${key} kept changing; gave up after ${attempt + 1} attempts`, {
            cause: err,
            details: { key },
          });
        }
        throw err;
      }
      // A little jitter so two losers do not collide again on the next attempt.
      await new Promise((r) => setTimeout(r, Math.random() * 10 * (attempt + 1)));
    }
  }
}

function isLostRace(err: unknown): boolean {
  if (err instanceof JetStreamApiError) {
    return (
      err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown
    );
  }
  return false;
}
