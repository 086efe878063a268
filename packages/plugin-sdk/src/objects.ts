import { nanos, headers as natsHeaders } from "@nats-io/nats-core";
import { type ObjectInfo, Objm } from "@nats-io/obj";
import type { Bus } from "@speakers/bus";

export interface StoredObject {
  name: string;
  size: number;
  modified: Date;
  contentType: string | undefined;
}

/** Blobs in the plugin's own Object Store bucket. */
export interface PluginObjects {
  readonly bucket: string;
  put(name: string, bytes: Uint8Array, options?: { contentType?: string }): Promise<StoredObject>;
  /** The bytes, or undefined when there is no such object (deleted or expired). */
  get(name: string): Promise<Uint8Array | undefined>;
  delete(name: string): Promise<void>;
  list(): Promise<StoredObject[]>;
}

const CONTENT_TYPE = "Content-Type";

export async function openPluginObjects(
  bus: Bus,
  bucket: string,
  options: { ttlMs?: number; maxBytes?: number },
): Promise<PluginObjects> {
  const store = await new Objm(bus.js).create(bucket, {
    ...(options.ttlMs === undefined ? {} : { ttl: nanos(options.ttlMs) }),
    ...(options.maxBytes === undefined ? {} : { max_bytes: options.maxBytes }),
  });
  const describe = (info: ObjectInfo): StoredObject => ({
    name: info.name,
    size: info.size,
    modified: new Date(info.mtime),
    contentType: info.headers?.get(CONTENT_TYPE) || undefined,
  });
  return {
    bucket,
    async put(name, bytes, opts = {}) {
      const headers = natsHeaders();
      if (opts.contentType !== undefined) headers.set(CONTENT_TYPE, opts.contentType);
      const info = await store.putBlob({ name, headers }, bytes);
      return describe(info);
    },
    async get(name) {
      return (await store.getBlob(name)) ?? undefined;
    },
    async delete(name) {
      await store.delete(name);
    },
    async list() {
      return (await store.list()).filter((info) => !info.deleted).map(describe);
    },
  };
}
