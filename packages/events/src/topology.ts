/**
 * Names and limits of streams, consumers and buckets (ADR 0001), shared by the bus and, through
 * `schemas/topology.json`, by the Python worker. Durations are milliseconds, sizes bytes.
 */
import { modelToken } from "./model.js";

const DAY_MS = 24 * 60 * 60 * 1000;
const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

export interface StreamSpec {
  readonly name: string;
  readonly subjects: readonly string[];
  readonly storage: "file" | "memory";
  readonly maxAgeMs: number;
  /** -1: no byte limit. */
  readonly maxBytes: number;
  readonly discard: "old" | "new";
  readonly duplicateWindowMs: number;
}

export const STREAMS = {
  AUDIO: {
    name: "AUDIO",
    subjects: ["audio.captured.>", "audio.transcribed.>"],
    storage: "file",
    maxAgeMs: 30 * DAY_MS,
    maxBytes: 10 * 1024 ** 3,
    discard: "old",
    duplicateWindowMs: DUPLICATE_WINDOW_MS,
  },
  EMBEDDINGS: {
    name: "EMBEDDINGS",
    subjects: ["embedding.computed.>", "embedding.failed.>"],
    storage: "file",
    maxAgeMs: 30 * DAY_MS,
    maxBytes: -1,
    discard: "old",
    duplicateWindowMs: DUPLICATE_WINDOW_MS,
  },
  SPEAKERS: {
    name: "SPEAKERS",
    subjects: ["speaker.>"],
    storage: "file",
    maxAgeMs: 90 * DAY_MS,
    maxBytes: -1,
    discard: "old",
    duplicateWindowMs: DUPLICATE_WINDOW_MS,
  },
  DEADLETTER: {
    name: "DEADLETTER",
    subjects: ["deadletter.>"],
    storage: "file",
    maxAgeMs: 30 * DAY_MS,
    maxBytes: -1,
    discard: "old",
    duplicateWindowMs: DUPLICATE_WINDOW_MS,
  },
} as const satisfies Record<string, StreamSpec>;

export type StreamName = keyof typeof STREAMS;

/** Durable pull consumers of the chain. Plugins add one durable each, named after the plugin. */
export const CONSUMERS = {
  embeddingWorker: { stream: "AUDIO", durable: "embedding-worker", filterSubjects: ["audio.captured.>"] },
  speakerRegistry: {
    stream: "EMBEDDINGS",
    durable: "speaker-registry",
    filterSubjects: ["embedding.computed.>"],
  },
} as const satisfies Record<
  string,
  { stream: StreamName; durable: string; filterSubjects: readonly string[] }
>;

export const KV_BUCKETS = {
  speakers: { name: "speakers", history: 5 },
  speakerSamples: { name: "speaker-samples", history: 5 },
  voiceprints: { name: "voiceprints", history: 5 },
  presence: { name: "presence", history: 5 },
  ingestSeen: { name: "ingest-seen", history: 5 },
  registryState: { name: "registry-state", history: 5 },
} as const satisfies Record<string, { name: string; history: number }>;

/** Keys of `registry-state` that other services read: the live model (a ModelRef) the registry identifies with. */
export const REGISTRY_STATE_KEYS = { liveModel: "live-model" } as const;

export const OBJECT_STORES = {
  audioClips: { name: "audio-clips" },
} as const;

/** Clips above this size go to the `audio-clips` Object Store instead of the message body. */
export const INLINE_AUDIO_LIMIT_BYTES = 512 * 1024;

/** Dead letters keep the original subject under this prefix. */
export function deadLetterSubject(originalSubject: string): string {
  return `deadletter.${originalSubject}`;
}

/** NATS micro services (ADR-32) of ADR 0001: name, queue group and the full subject of each endpoint. */
export const SERVICES = {
  embedding: {
    name: "embedding",
    queue: "embedding",
    prefix: "speakers.embedding",
    endpoints: {
      extract: "speakers.embedding.extract",
      extractBatch: "speakers.embedding.extract-batch",
      similarity: "speakers.embedding.similarity",
      centroid: "speakers.embedding.centroid",
      models: "speakers.embedding.models",
      augment: "speakers.embedding.augment",
    },
  },
  registry: {
    name: "registry",
    queue: "registry",
    prefix: "speakers.registry",
    endpoints: {
      identify: "speakers.registry.identify",
      verify: "speakers.registry.verify",
      enroll: "speakers.registry.enroll",
      list: "speakers.registry.list",
      get: "speakers.registry.get",
      rename: "speakers.registry.rename",
      delete: "speakers.registry.delete",
      samplesAdd: "speakers.registry.samples.add",
      samplesRemove: "speakers.registry.samples.remove",
      voiceprintsRebuild: "speakers.registry.voiceprints.rebuild",
      calibrationGet: "speakers.registry.calibration.get",
      calibrate: "speakers.registry.calibrate",
      adaptation: "speakers.registry.adaptation",
      cohortImport: "speakers.registry.cohort.import",
      cohortGet: "speakers.registry.cohort.get",
      cohortClear: "speakers.registry.cohort.clear",
      modelUse: "speakers.registry.model.use",
    },
  },
  /** Served by the presence plugin (`speakers.<plugin name>.<endpoint>`, plugin-sdk). */
  presence: {
    name: "presence",
    prefix: "speakers.presence",
    endpoints: { whoIsHome: "speakers.presence.who-is-home", lastHeard: "speakers.presence.last-heard" },
  },
  /** Served by the unknown-voices plugin. */
  unknownVoices: {
    name: "unknown-voices",
    prefix: "speakers.unknown-voices",
    endpoints: {
      list: "speakers.unknown-voices.list",
      audio: "speakers.unknown-voices.audio",
      name: "speakers.unknown-voices.name",
      delete: "speakers.unknown-voices.delete",
    },
  },
} as const;

/**
 * The `embedding` endpoints only workers of one model answer: `speakers.embedding.<model token>.*` in queue
 * group `embedding-<model token>`. Every worker serves its model's; only live workers serve the generic
 * `SERVICES.embedding` ones, so a replay worker of another model never takes a live request.
 */
export function modelEmbeddingService(model: { readonly id: string; readonly revision: string }) {
  const token = modelToken(model);
  const prefix = `${SERVICES.embedding.prefix}.${token}`;
  return {
    queue: `${SERVICES.embedding.queue}-${token}`,
    prefix,
    endpoints: {
      extract: `${prefix}.extract`,
      extractBatch: `${prefix}.extract-batch`,
      similarity: `${prefix}.similarity`,
      centroid: `${prefix}.centroid`,
      models: `${prefix}.models`,
      augment: `${prefix}.augment`,
    },
  } as const;
}

/** True when `subject` is matched by the NATS filter `filter` (`*` one token, `>` one or more at the end). */
export function subjectMatches(filter: string, subject: string): boolean {
  const want = filter.split(".");
  const got = subject.split(".");
  for (let i = 0; i < want.length; i++) {
    const token = want[i];
    if (token === ">") return i === want.length - 1 && got.length > i;
    if (i >= got.length) return false;
    if (token !== "*" && token !== got[i]) return false;
  }
  return want.length === got.length;
}

/**
 * `ce-source` of the `embedding.computed` events a replay publishes. They describe past audio in another
 * model's space; the live registry never identifies them, even after that model becomes the live one.
 */
export const REPLAY_SOURCE = "/services/replay";

/** The durable consumer a replay of one model reads AUDIO with; it keeps its place across interruptions. */
export function replayConsumerName(model: { readonly id: string; readonly revision: string }): string {
  return `replay-${modelToken(model)}`;
}
