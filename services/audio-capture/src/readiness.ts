import { Kvm } from "@nats-io/kv";
import type { Bus } from "@speakers/bus";
import { createEmbeddingClient } from "@speakers/embedding-client";
import { KV_BUCKETS, type ModelRef, modelKey, REGISTRY_STATE_KEYS } from "@speakers/events";
import type { BusHealth } from "./bus-health.js";

export interface ReadyState {
  ready: boolean;
  body: {
    status: "ok" | "unavailable";
    bus: "up" | "down";
    worker?: "up" | "down";
    /** The model key of the live worker that answered. */
    model?: string;
    reason?: string;
  };
}

/** What `/readyz` reports: whether a clip sent now would be turned into an identification. */
export interface Readiness {
  check(): Promise<ReadyState>;
}

export interface ReadinessOptions {
  /** Also require a live embedding worker to answer PING (default true; off: the bus only). */
  worker?: boolean;
  /** How long a worker check is reused, so a probe every second costs one PING per period (default 2 s). */
  cacheMs?: number;
  /** How long a PING waits for the worker (default 1 s). */
  pingTimeoutMs?: number;
}

export function busReadiness(health: BusHealth): Readiness {
  return captureReadiness({ health }, { worker: false });
}

/**
 * Ready while the bus is up and a live embedding worker answers `$SRV.PING.embedding` (issue 9 item 4): without
 * one, capture would still answer 202 and clips would pile up in AUDIO unnoticed. When the registry has chosen
 * a live model (KV `registry-state`), the worker must run that model. Worker checks are cached for `cacheMs`.
 */
export function captureReadiness(
  deps: { health: BusHealth; bus?: Bus },
  options: ReadinessOptions = {},
): Readiness {
  const withWorker = (options.worker ?? true) && deps.bus !== undefined;
  const cacheMs = options.cacheMs ?? 2_000;
  const pingTimeoutMs = options.pingTimeoutMs ?? 1_000;
  let cached: { at: number; state: Promise<ReadyState> } | undefined;

  const checkWorker = async (bus: Bus): Promise<ReadyState> => {
    const live = await liveModel(bus);
    try {
      const ping = await createEmbeddingClient(bus, { pingTimeoutMs }).ping();
      const key = ping.metadata.model_key;
      if (live !== undefined && key !== modelKey(live)) {
        return down(`The live worker runs ${key}, but the live model is ${modelKey(live)}.`, key);
      }
      return { ready: true, body: { status: "ok", bus: "up", worker: "up", ...(key ? { model: key } : {}) } };
    } catch {
      const which = live === undefined ? "live embedding worker" : `embedding worker of ${modelKey(live)}`;
      return down(`No ${which} answers; clips would wait in the AUDIO stream until one does.`);
    }
  };

  return {
    async check() {
      if (!deps.health.up) {
        cached = undefined;
        return {
          ready: false,
          body: { status: "unavailable", bus: "down", reason: "The NATS server is not reachable." },
        };
      }
      if (!withWorker || deps.bus === undefined) return { ready: true, body: { status: "ok", bus: "up" } };
      if (cached === undefined || Date.now() - cached.at > cacheMs) {
        cached = { at: Date.now(), state: checkWorker(deps.bus) };
      }
      return cached.state;
    },
  };
}

function down(reason: string, model?: string): ReadyState {
  return {
    ready: false,
    body: { status: "unavailable", bus: "up", worker: "down", ...(model ? { model } : {}), reason },
  };
}

/** The registry's live model, if it has chosen one and this user may read it. */
async function liveModel(bus: Bus): Promise<ModelRef | undefined> {
  try {
    const state = await new Kvm(bus.js).open(KV_BUCKETS.registryState.name);
    const entry = await state.get(REGISTRY_STATE_KEYS.liveModel);
    return entry?.operation === "PUT" ? entry.json<ModelRef>() : undefined;
  } catch {
    return undefined;
  }
}
