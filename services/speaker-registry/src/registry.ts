/**
 * createRegistry builds the speaker registry from its dependencies without touching the network; start()
 * opens the buckets, settles the live model, serves the `registry` micro service and follows
 * `embedding.computed.<live model>` with the durable consumer `speaker-registry`. It watches the live model
 * in `registry-state`: when `speakers model use` changes it, the consumer's filter moves to the new model's
 * subject without a restart (the durable keeps its place, so no live embedding is skipped or repeated).
 */
import type { KvEntry } from "@nats-io/kv";
import type { Service } from "@nats-io/services";
import { addService, type Bus, type ConsumeHandle, consume, type Logger } from "@speakers/bus";
import { createEmbeddingClient } from "@speakers/embedding-client";
import {
  CONSUMERS,
  EmbeddingComputed,
  type ModelRef,
  modelKey,
  SERVICES,
  SpeakersError,
  STREAMS,
} from "@speakers/events";
import { type PolicyOverrides, policyFor } from "@speakers/scoring";
import type { RegistryContext } from "./context.js";
import type { Embedder } from "./embedder.js";
import { addRegistryEndpoints } from "./endpoints.js";
import { DEFAULT_ENROLLMENT_POLICY, type EnrollmentPolicy } from "./enrollment-policy.js";
import { HouseholdScoring } from "./household-scoring.js";
import { HouseholdSources } from "./household-sources.js";
import { handleEmbeddingComputed } from "./identify.js";
import { LIVE_MODEL_KEY, resolveLiveModel } from "./live-model.js";
import { openBuckets, RegistryStore } from "./store/registry-store.js";
import { SampleView } from "./store/sample-view.js";
import { StateView } from "./store/state-view.js";
import { VoiceprintView } from "./store/voiceprint-view.js";

export interface RegistryDeps {
  bus: Bus;
  /** Default: the worker's `embedding` service on the same bus (live workers). */
  embedder?: Embedder;
  /** A client for one model's workers (voiceprint rebuilds); default the embedding client bound to it. */
  embedderFor?: (model: ModelRef) => Embedder;
  policyOverrides?: PolicyOverrides;
  enrollment?: EnrollmentPolicy;
  logger?: Logger;
  /** Follow `embedding.computed` (default true); off for a registry that only answers requests. */
  consume?: boolean;
  version?: string;
  /**
   * Augmented copies embedded per enrollment sample for multi-condition voiceprints (ADR 0003); default
   * $SPEAKERS_AUGMENT_COPIES or 16; 0 switches augmentation off.
   */
  augmentCopies?: number;
  /** Decide with the stored calibration (default: SPEAKERS_DECISION=calibrated); else the cosine defaults. */
  calibratedDecision?: boolean;
  /** Opt-in adaptation for models without their own setting (default: SPEAKERS_ADAPTATION=on). */
  adaptation?: boolean;
}

export interface Registry {
  start(): Promise<void>;
  /** Stops consuming and serving; the connection stays the caller's. */
  stop(): Promise<void>;
  /** The live model, once started; follows `registry-state`. */
  liveModel(): ModelRef;
}

export const REGISTRY_SOURCE = "/services/speaker-registry";

export function createRegistry(deps: RegistryDeps): Registry {
  const logger = deps.logger ?? deps.bus.logger;
  const embedder = deps.embedder ?? createEmbeddingClient(deps.bus);
  const clients = new Map<string, Embedder>();
  const embedderFor =
    deps.embedderFor ??
    ((model: ModelRef) => {
      const key = modelKey(model);
      let client = clients.get(key);
      if (client === undefined) {
        client = createEmbeddingClient(deps.bus, { model });
        clients.set(key, client);
      }
      return client;
    });
  let live: ModelRef | undefined;
  let service: Service | undefined;
  let consumer: ConsumeHandle | undefined;
  let watcher: { stop(): void; done: Promise<void> } | undefined;
  let voiceprints: VoiceprintView | undefined;
  let stateView: StateView | undefined;
  let sampleView: SampleView | undefined;
  // Switches run one after another, so two quick changes end on the last one.
  let switching: Promise<void> = Promise.resolve();

  const liveModel = (): ModelRef => {
    if (live === undefined) throw new Error("the registry is not started");
    return live;
  };

  const follow = async (c: RegistryContext, model: ModelRef) => {
    consumer = await consume(deps.bus, {
      stream: STREAMS.EMBEDDINGS.name,
      durable: CONSUMERS.speakerRegistry.durable,
      defs: [EmbeddingComputed],
      create: { filterSubjects: [EmbeddingComputed.subject(model)] },
      handler: (delivery) => handleEmbeddingComputed(c, liveModel, delivery),
      logger,
    });
  };

  const switchTo = async (c: RegistryContext, model: ModelRef) => {
    if (live !== undefined && modelKey(model) === modelKey(live)) return;
    const from = live;
    live = model;
    if (consumer !== undefined) {
      await consumer.stop();
      consumer = undefined;
      await follow(c, model);
    }
    logger.info({ from, to: model }, "live model switched");
  };

  return {
    liveModel,
    async start() {
      const buckets = await openBuckets(deps.bus);
      // Before the service answers: identification scores against this view, never a listing of the bucket.
      voiceprints = await VoiceprintView.start(buckets.voiceprints, logger);
      sampleView = await SampleView.start(buckets.samples, logger);
      const state = await StateView.start(buckets.state, logger);
      stateView = state;
      let self: RegistryContext | undefined;
      const c: RegistryContext = {
        state,
        scoring: new HouseholdScoring(() => self as RegistryContext),
        sources: new HouseholdSources(
          () => deps.bus,
          () => state,
        ),
        adaptationByDefault: deps.adaptation ?? process.env.SPEAKERS_ADAPTATION === "on",
        augmentCopies: deps.augmentCopies ?? augmentCopiesFromEnv(),
        calibratedDecision: deps.calibratedDecision ?? process.env.SPEAKERS_DECISION === "calibrated",
        bus: deps.bus,
        store: new RegistryStore(buckets, voiceprints, sampleView),
        embedder,
        embedderFor,
        liveModel,
        enrollment: deps.enrollment ?? DEFAULT_ENROLLMENT_POLICY,
        policy: (key) => policyFor(key, deps.policyOverrides),
        source: REGISTRY_SOURCE,
        logger,
      };
      self = c;
      live = await resolveLiveModel(buckets.state, embedder);
      service = await addService(deps.bus, {
        name: SERVICES.registry.name,
        version: deps.version ?? "0.1.0",
        description: "Speaker registry: enrollment, identification and verification against voiceprints",
        queue: SERVICES.registry.queue,
        // The live model can change while the service runs (speakers model use): INFO metadata is fixed at
        // start, so it is reported in STATS, which is computed on each request.
        // The decision policy of the live model rides along, so a console shows the threshold in force.
        statsHandler: async () => {
          const key = modelKey(liveModel());
          return { liveModel: key, policy: { [key]: c.policy(key) } };
        },
      });
      addRegistryEndpoints(c, service);
      if (deps.consume ?? true) await follow(c, live);
      const updates = await buckets.state.watch({ key: LIVE_MODEL_KEY });
      const done = (async () => {
        for await (const entry of updates) {
          const model = liveModelOf(entry);
          if (model === undefined) continue;
          switching = switching
            .then(() => switchTo(c, model))
            .catch((err: unknown) => logger.error({ err, model }, "live model switch failed"));
          await switching;
        }
      })();
      watcher = { stop: () => updates.stop(), done };
      logger.info({ liveModel: live }, "registry started");
    },
    async stop() {
      watcher?.stop();
      await watcher?.done;
      watcher = undefined;
      await switching;
      await consumer?.stop();
      consumer = undefined;
      await service?.stop();
      service = undefined;
      await voiceprints?.stop();
      voiceprints = undefined;
      await stateView?.stop();
      stateView = undefined;
      await sampleView?.stop();
      sampleView = undefined;
    },
  };
}

function liveModelOf(entry: KvEntry): ModelRef | undefined {
  if (entry.operation !== "PUT") return undefined;
  try {
    return entry.json<ModelRef>();
  } catch {
    return undefined;
  }
}

/** `SPEAKERS_AUGMENT_COPIES`: copies per enrollment sample (0-64), default 16. */
export function augmentCopiesFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SPEAKERS_AUGMENT_COPIES;
  if (raw === undefined || raw === "") return 16;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 64) {
    throw new SpeakersError(
      "INVALID_REQUEST",
      "SPEAKERS_AUGMENT_COPIES must be a whole number from 0 to 64.",
      {
        details: { value: raw },
      },
    );
  }
  return n;
}
