import {
  AckPolicy,
  type ConsumerConfig,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type StreamUpdateConfig,
} from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { nanos } from "@nats-io/nats-core";
import { Objm } from "@nats-io/obj";
import { CONSUMERS, KV_BUCKETS, OBJECT_STORES, STREAMS, type StreamSpec } from "@speakers/events";
import type { Bus } from "./connect.js";

export interface ConsumerSpec {
  stream: string;
  durable: string;
  filterSubjects?: readonly string[];
  /** Server-side delivery cap; -1 (default) leaves the cap to `consume`, which dead-letters before it. */
  maxDeliver?: number;
  /** Time the server waits for an ack before redelivering (default 30 s; `consume` extends it while working). */
  ackWaitMs?: number;
  maxAckPending?: number;
  /** "all" (default) replays the stream's history to a new consumer; "new" starts at the next message. */
  deliver?: "all" | "new";
}

export interface KvBucketSpec {
  name: string;
  history: number;
  maxBytes?: number;
  ttlMs?: number;
}

export interface ObjectStoreSpec {
  name: string;
  maxBytes?: number;
  ttlMs?: number;
}

/** Everything the system needs on the server. Defaults come from the events package (ADR 0001). */
export interface Topology {
  streams: readonly StreamSpec[];
  consumers: readonly ConsumerSpec[];
  kvBuckets: readonly KvBucketSpec[];
  objectStores: readonly ObjectStoreSpec[];
  /** Replicas of every stream and bucket (3 on a 3-node cluster; default 1). */
  replicas?: number;
}

export interface TopologyOverrides {
  /** AUDIO retention (ADR 0001: 30 days, configurable). */
  audioMaxAgeMs?: number;
  audioMaxBytes?: number;
  replicas?: number;
  /** Added to the chain's consumers, e.g. one per plugin. */
  extraConsumers?: readonly ConsumerSpec[];
}

export function defaultTopology(overrides: TopologyOverrides = {}): Topology {
  const streams: StreamSpec[] = Object.values(STREAMS).map((s) =>
    s.name === "AUDIO"
      ? {
          ...s,
          maxAgeMs: overrides.audioMaxAgeMs ?? s.maxAgeMs,
          maxBytes: overrides.audioMaxBytes ?? s.maxBytes,
        }
      : s,
  );
  return {
    streams,
    consumers: [...Object.values(CONSUMERS), ...(overrides.extraConsumers ?? [])],
    kvBuckets: Object.values(KV_BUCKETS),
    objectStores: Object.values(OBJECT_STORES),
    ...(overrides.replicas === undefined ? {} : { replicas: overrides.replicas }),
  };
}

export type ProvisionAction = "created" | "updated";

export interface ProvisionReport {
  streams: Record<string, ProvisionAction>;
  consumers: Record<string, ProvisionAction>;
  kvBuckets: string[];
  objectStores: string[];
}

/**
 * Creates what is missing and updates what exists to the declared limits, so every service can run it at start
 * and a second run changes nothing.
 */
export async function provision(bus: Bus, topology: Topology = defaultTopology()): Promise<ProvisionReport> {
  const replicas = topology.replicas ?? 1;
  const report: ProvisionReport = { streams: {}, consumers: {}, kvBuckets: [], objectStores: [] };
  for (const spec of topology.streams) report.streams[spec.name] = await ensureStream(bus, spec, replicas);
  for (const spec of topology.consumers) {
    report.consumers[`${spec.stream}/${spec.durable}`] = await ensureConsumer(bus, spec);
  }
  const kvm = new Kvm(bus.js);
  for (const b of topology.kvBuckets) {
    await kvm.create(b.name, {
      history: b.history,
      storage: StorageType.File,
      replicas,
      ...(b.maxBytes === undefined ? {} : { max_bytes: b.maxBytes }),
      ...(b.ttlMs === undefined ? {} : { ttl: b.ttlMs }),
    });
    report.kvBuckets.push(b.name);
  }
  const objm = new Objm(bus.js);
  for (const o of topology.objectStores) {
    await objm.create(o.name, {
      storage: StorageType.File,
      replicas,
      ...(o.maxBytes === undefined ? {} : { max_bytes: o.maxBytes }),
      ...(o.ttlMs === undefined ? {} : { ttl: nanos(o.ttlMs) }),
    });
    report.objectStores.push(o.name);
  }
  bus.logger.info(report, "provisioned");
  return report;
}

export async function ensureStream(bus: Bus, spec: StreamSpec, replicas = 1): Promise<ProvisionAction> {
  // Storage and retention cannot change on an existing stream, so only the rest is sent on update.
  const updatable: Partial<StreamUpdateConfig> = {
    subjects: [...spec.subjects],
    max_age: nanos(spec.maxAgeMs),
    max_bytes: spec.maxBytes,
    discard: spec.discard === "old" ? DiscardPolicy.Old : DiscardPolicy.New,
    duplicate_window: nanos(spec.duplicateWindowMs),
    num_replicas: replicas,
  };
  if (await exists(() => bus.jsm.streams.info(spec.name))) {
    await bus.jsm.streams.update(spec.name, updatable);
    return "updated";
  }
  await bus.jsm.streams.add({
    ...updatable,
    name: spec.name,
    storage: spec.storage === "file" ? StorageType.File : StorageType.Memory,
    retention: RetentionPolicy.Limits,
  });
  return "created";
}

export async function ensureConsumer(bus: Bus, spec: ConsumerSpec): Promise<ProvisionAction> {
  const update: Partial<ConsumerConfig> = {
    ack_wait: nanos(spec.ackWaitMs ?? 30_000),
    max_deliver: spec.maxDeliver ?? -1,
    ...(spec.filterSubjects === undefined ? {} : { filter_subjects: [...spec.filterSubjects] }),
    ...(spec.maxAckPending === undefined ? {} : { max_ack_pending: spec.maxAckPending }),
  };
  if (await exists(() => bus.jsm.consumers.info(spec.stream, spec.durable))) {
    await bus.jsm.consumers.update(spec.stream, spec.durable, update);
    return "updated";
  }
  await bus.jsm.consumers.add(spec.stream, {
    ...update,
    durable_name: spec.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: spec.deliver === "new" ? DeliverPolicy.New : DeliverPolicy.All,
  });
  return "created";
}

async function exists(lookup: () => Promise<unknown>): Promise<boolean> {
  try {
    await lookup();
    return true;
  } catch (err) {
    if (
      err instanceof JetStreamApiError &&
      (err.code === JetStreamApiCodes.StreamNotFound || err.code === JetStreamApiCodes.ConsumerNotFound)
    ) {
      return false;
    }
    throw err;
  }
}
