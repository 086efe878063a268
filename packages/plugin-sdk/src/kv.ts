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
    async keys() {
      const out: string[] = [];
      for await (const key of await kv.keys()) out.push(key);
      return out;
    },
    async entries<T>() {
      const out: Array<{ key: string; value: T; updatedAt: Date }> = [];
      for await (const key of await kv.keys()) {
        const entry = await kv.get(key);
        if (entry && entry.operation === "PUT")
          out.push({ key, value: decode<T>(entry.value), updatedAt: entry.created });
      }
      return out;
    },
  };
}
