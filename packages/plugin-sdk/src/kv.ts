import { DeliverPolicy } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import { type Bus, updateKv } from "@speakers/bus";

/** JSON values in the plugin's own KV bucket; no other bucket is reachable through it. */
export interface PluginKv {
  readonly bucket: string;
  get<T>(key: string): Promise<T | undefined>;
  put<T>(key: string, value: T): Promise<void>;
  /** Read-modify-write with compare-and-set; `fn` may run more than once, so keep it free of side effects. */
  update<T>(key: string, fn: (current: T | undefined) => T): Promise<T>;
  /** Marks the key deleted; earlier values stay readable in the bucket's history (up to `history`). */
  delete(key: string): Promise<void>;
  /** Removes the key with its whole history: what erasing personal data needs (ADR 0004). */
  purge(key: string): Promise<void>;
  /** Drops the markers that deleted and purged keys leave behind, once older than `olderThanMs`. */
  compact(olderThanMs: number): Promise<void>;
  keys(): Promise<string[]>;
  /** Every live entry (fine for the small buckets plugins keep). */
  entries<T>(): Promise<Array<{ key: string; value: T; updatedAt: Date }>>;
}

/** The characters NATS KV allows in a key; anything else (spaces, `:`) becomes `_`. */
export function kvKey(text: string): string {
  const key = text.replace(/[^-/_=.a-zA-Z0-9]/g, "_").replace(/^\.+|\.+$/g, "_");
  return key === "" ? "_" : key;
}

export async function openPluginKv(
  bus: Bus,
  bucket: string,
  options: { history?: number; ttlMs?: number; maxBytes?: number },
): Promise<PluginKv> {
  const kv: KV = await new Kvm(bus.js).create(bucket, {
    history: options.history ?? 1,
    ...(options.ttlMs === undefined ? {} : { ttl: options.ttlMs }),
    ...(options.maxBytes === undefined ? {} : { max_bytes: options.maxBytes }),
  });
  const decode = <T>(value: Uint8Array): T => JSON.parse(new TextDecoder().decode(value)) as T;
  return {
    bucket,
    async get<T>(key: string) {
      const entry = await kv.get(key);
      return entry && entry.operation === "PUT" ? decode<T>(entry.value) : undefined;
    },
    async put<T>(key: string, value: T) {
      await kv.put(key, JSON.stringify(value));
    },
    async update<T>(key: string, fn: (current: T | undefined) => T) {
      return (await updateKv<T>(kv, key, fn)).value;
    },
    async delete(key: string) {
      await kv.delete(key);
    },
    async purge(key: string) {
      await kv.purge(key);
    },
    async compact(olderThanMs: number) {
      const before = Date.now() - olderThanMs;
      for (const marker of await latest(bus, bucket, true)) {
        if (marker.time.getTime() < before) {
          await bus.jsm.streams.purge(`KV_${bucket}`, { filter: `$KV.${bucket}.${marker.key}` });
        }
      }
    },
    async keys() {
      return (await latest(bus, bucket)).map((e) => e.key);
    },
    async entries<T>() {
      return (await latest(bus, bucket)).map((e) => ({
        key: e.key,
        value: decode<T>(e.value),
        updatedAt: e.time,
      }));
    },
  };
}

/**
 * The live value of every key (or, with `markers`, the delete and purge markers), in one pass of an ordered consumer that is deleted afterwards. `kv.keys()`
 * plus a get per key leaves its consumer on the server until the 5-minute inactivity threshold, one per
 * call: a plugin listing its bucket on every event kept hundreds of them alive.
 */
async function latest(
  bus: Bus,
  bucket: string,
  markers = false,
): Promise<Array<{ key: string; value: Uint8Array; time: Date }>> {
  const prefix = `$KV.${bucket}.`;
  const consumer = await bus.js.consumers.get(`KV_${bucket}`, {
    filter_subjects: `${prefix}>`,
    deliver_policy: DeliverPolicy.LastPerSubject,
  });
  const out: Array<{ key: string; value: Uint8Array; time: Date }> = [];
  try {
    let pending = (await consumer.info(true)).num_pending;
    while (pending > 0) {
      let got = 0;
      for await (const m of await consumer.fetch({ max_messages: Math.min(pending, 256), expires: 5_000 })) {
        got++;
        pending = m.info.pending;
        const op = m.headers?.get("KV-Operation");
        if ((!op || op === "PUT") !== markers) {
          out.push({ key: m.subject.slice(prefix.length), value: m.data, time: m.time });
        }
        if (pending === 0) break;
      }
      if (got === 0) break;
    }
  } finally {
    await consumer.delete().catch(() => {});
  }
  return out;
}
