/**
 * The System page's numbers: each micro service's instances from `$SRV.INFO` / `$SRV.STATS` (model, device,
 * worker count, requests), the worker's throughput from the change in its clip counter between two looks, and
 * the depth of every stream and consumer from JetStream.
 */
import { type ServiceInfo, type ServiceStats, Svcm } from "@nats-io/services";
import type { Bus } from "@speakers/bus";
import { SERVICES, STREAMS } from "@speakers/events";

export interface ServiceInstance {
  name: string;
  id: string;
  version: string;
  metadata: Record<string, string>;
  started: string | undefined;
  requests: number;
  errors: number;
  /** Data the service adds to its first endpoint's stats (the worker's counters, the registry's live model). */
  data: unknown;
  /** Worker only: clips embedded per second since the previous look (undefined on the first). */
  clipsPerSecond?: number;
  clips?: number;
}

export interface StreamDepth {
  name: string;
  messages: number;
  bytes: number;
  consumers: { name: string; pending: number; ackPending: number; redelivered: number }[];
}

export interface SystemSnapshot {
  at: string;
  services: Record<string, ServiceInstance[]>;
  streams: StreamDepth[];
}

const SERVICE_NAMES = [
  SERVICES.embedding.name,
  SERVICES.registry.name,
  SERVICES.presence.name,
  SERVICES.unknownVoices.name,
] as const;

/** Keeps the last clip count per worker id, to turn counters into a rate. */
export function createSystemInfo(bus: Bus, options: { maxWaitMs?: number } = {}) {
  // @nats-io/services 3.0.0-25 is typed against an older nats-core; the connection is the same at runtime.
  const svcm = new Svcm(bus.nc as unknown as ConstructorParameters<typeof Svcm>[0]);
  const client = svcm.client({ strategy: "timer", maxWait: options.maxWaitMs ?? 1_000 } as Parameters<
    Svcm["client"]
  >[0]);
  const lastClips = new Map<string, { at: number; clips: number }>();

  const collect = async <T>(it: Promise<AsyncIterable<T>>): Promise<T[]> => {
    const out: T[] = [];
    try {
      for await (const item of await it) out.push(item);
    } catch {
      // nobody answered in time: an empty list says so
    }
    return out;
  };

  const instancesOf = async (name: string): Promise<ServiceInstance[]> => {
    const [infos, stats] = await Promise.all([
      collect<ServiceInfo>(client.info(name)),
      collect<ServiceStats>(client.stats(name)),
    ]);
    const now = Date.now();
    return infos
      .map((info) => {
        const s = stats.find((x) => x.id === info.id);
        const endpoints = s?.endpoints ?? [];
        const instance: ServiceInstance = {
          name: info.name,
          id: info.id,
          version: info.version,
          metadata: info.metadata ?? {},
          started: s?.started,
          requests: endpoints.reduce((n, e) => n + e.num_requests, 0),
          errors: endpoints.reduce((n, e) => n + e.num_errors, 0),
          data: endpoints.find((e) => e.data !== undefined)?.data,
        };
        const clips = workerClips(instance.data);
        if (clips !== undefined) {
          const before = lastClips.get(info.id);
          lastClips.set(info.id, { at: now, clips });
          instance.clips = clips;
          if (before !== undefined && now > before.at) {
            instance.clipsPerSecond = ((clips - before.clips) * 1000) / (now - before.at);
          }
        }
        return instance;
      })
      .sort((a, b) => a.id.localeCompare(b.id));
  };

  const streams = async (): Promise<StreamDepth[]> => {
    const out: StreamDepth[] = [];
    for (const spec of Object.values(STREAMS)) {
      try {
        const info = await bus.jsm.streams.info(spec.name);
        const consumers: StreamDepth["consumers"] = [];
        for await (const c of bus.jsm.consumers.list(spec.name)) {
          // Ordered consumers (scans, this console's feeds) come and go; durables are the chain.
          if (!c.config.durable_name) continue;
          consumers.push({
            name: c.name,
            pending: c.num_pending,
            ackPending: c.num_ack_pending,
            redelivered: c.num_redelivered,
          });
        }
        out.push({ name: spec.name, messages: info.state.messages, bytes: info.state.bytes, consumers });
      } catch {
        // a stream not provisioned (yet) is left out
      }
    }
    return out;
  };

  return {
    async snapshot(): Promise<SystemSnapshot> {
      const [lists, depths] = await Promise.all([Promise.all(SERVICE_NAMES.map(instancesOf)), streams()]);
      const services: Record<string, ServiceInstance[]> = {};
      SERVICE_NAMES.forEach((name, i) => {
        services[name] = lists[i] ?? [];
      });
      return { at: new Date().toISOString(), services, streams: depths };
    },
  };
}

export type SystemInfo = ReturnType<typeof createSystemInfo>;

/** The worker puts `{ worker: { embedder: { clips } } }` in its endpoint stats. */
function workerClips(data: unknown): number | undefined {
  const clips = (data as { worker?: { embedder?: { clips?: unknown } } } | undefined)?.worker?.embedder
    ?.clips;
  return typeof clips === "number" ? clips : undefined;
}
