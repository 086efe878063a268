/**
 * createRegistry builds the speaker registry from its dependencies without touching the network; start()
 * opens the buckets, settles the live model, serves the `registry` micro service and follows
 * `embedding.computed.<live model>` with the durable consumer `speaker-registry`.
 */
import type { Service } from "@nats-io/services";
import { addService, type Bus, type ConsumeHandle, consume, type Logger } from "@speakers/bus";
import { CONSUMERS, EmbeddingComputed, type ModelRef, SERVICES, STREAMS } from "@speakers/events";
import type { RegistryContext } from "./context.js";
import type { Embedder } from "./embedder.js";
import { workerEmbedder } from "./embedder.js";
import { addRegistryEndpoints } from "./endpoints.js";
import { DEFAULT_ENROLLMENT_POLICY, type EnrollmentPolicy } from "./enrollment-policy.js";
import { handleEmbeddingComputed } from "./identify.js";
import { resolveLiveModel } from "./live-model.js";
import { type PolicyOverrides, policyFor } from "./model-policy.js";
import { openBuckets, RegistryStore } from "./store/registry-store.js";

export interface RegistryDeps {
  bus: Bus;
  /** Default: the worker's `embedding` service on the same bus. */
  embedder?: Embedder;
  policyOverrides?: PolicyOverrides;
  enrollment?: EnrollmentPolicy;
  logger?: Logger;
  /** Follow `embedding.computed` (default true); off for a registry that only answers requests. */
  consume?: boolean;
  version?: string;
}

export interface Registry {
  start(): Promise<void>;
  /** Stops consuming and serving; the connection stays the caller's. */
  stop(): Promise<void>;
  /** The live model, once started. */
  liveModel(): ModelRef;
}

export const REGISTRY_SOURCE = "/services/speaker-registry";

export function createRegistry(deps: RegistryDeps): Registry {
  const logger = deps.logger ?? deps.bus.logger;
  const embedder = deps.embedder ?? workerEmbedder(deps.bus);
  let live: ModelRef | undefined;
  let service: Service | undefined;
  let consumer: ConsumeHandle | undefined;

  const liveModel = (): ModelRef => {
    if (live === undefined) throw new Error("the registry is not started");
    return live;
  };

  return {
    liveModel,
    async start() {
      const buckets = await openBuckets(deps.bus);
      const ctx: RegistryContext = {
        bus: deps.bus,
        store: new RegistryStore(buckets),
        embedder,
        enrollment: deps.enrollment ?? DEFAULT_ENROLLMENT_POLICY,
        policy: (key) => policyFor(key, deps.policyOverrides),
        source: REGISTRY_SOURCE,
        logger,
      };
      live = await resolveLiveModel(buckets.state, embedder);
      service = await addService(deps.bus, {
        name: SERVICES.registry.name,
        version: deps.version ?? "0.1.0",
        description: "Speaker registry: enrollment, identification and verification against voiceprints",
        queue: SERVICES.registry.queue,
        metadata: { liveModel: `${live.id}@${live.revision}` },
      });
      addRegistryEndpoints(ctx, service);
      if (deps.consume ?? true) {
        consumer = await consume(deps.bus, {
          stream: STREAMS.EMBEDDINGS.name,
          durable: CONSUMERS.speakerRegistry.durable,
          defs: [EmbeddingComputed],
          create: { filterSubjects: [EmbeddingComputed.subject(live)] },
          handler: (delivery) => handleEmbeddingComputed(ctx, liveModel, delivery),
          logger,
        });
      }
      logger.info({ liveModel: live }, "registry started");
    },
    async stop() {
      await consumer?.stop();
      consumer = undefined;
      await service?.stop();
      service = undefined;
    },
  };
}
