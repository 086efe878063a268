import { resolve } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { type Bus, call, request } from "@speakers/bus";
import {
  AugmentMeta,
  AugmentReply,
  type BatchItemMeta,
  BatchResult,
  CentroidReply,
  CentroidRequest,
  decodeJson,
  EmbeddingResult,
  ExtractBatchMeta,
  ExtractMeta,
  ModelsReply,
  modelEmbeddingService,
  modelKey,
  resolveModel,
  SERVICES,
  SimilarityReply,
  SimilarityRequest,
  SpeakersError,
} from "@speakers/events";

export const PING_SUBJECT = `$SRV.PING.${SERVICES.embedding.name}`;

/** A model by name (`ecapa`, `ge2e`, or its key) or as a reference. */
export type ModelChoice = string | { readonly id: string; readonly revision: string; readonly dim?: number };

export interface EmbeddingClientOptions {
  /**
   * Talk only to workers of this model (`speakers.embedding.<model token>.*`), live or replay; replies of
   * another model are MODEL_MISMATCH. Unset: the generic subjects, which only live workers answer.
   */
  model?: ModelChoice;
  /** For extract, similarity, centroid, models (default 60 s: a cold CPU forward pass can take seconds). */
  timeoutMs?: number;
  /** For extract-batch (default 300 s, the original design's limit). */
  batchTimeoutMs?: number;
  /** For ping (default 2 s). */
  pingTimeoutMs?: number;
}

/** One clip of a batch: bytes (format sniffed unless given), or a path the worker reads (local mode). */
export type BatchClip = ({ audio: Uint8Array } & Omit<BatchItemMeta, "length" | "path">) | { path: string };

/** Audio for `augment`: bytes (format sniffed unless given), or a path the worker reads (local mode). */
export type AugmentSource =
  | ({ audio: Uint8Array } & Omit<AugmentMeta["sample"], "length" | "path">)
  | { path: string };

/** What one worker instance answers to `$SRV.PING.embedding` (ADR-32). */
export interface WorkerPing {
  id: string;
  name: string;
  version: string;
  /** model_id, model_revision, model_dim, model_key, device, threads. */
  metadata: Record<string, string>;
}

export interface EmbeddingClient {
  /** The model this client is bound to, if any. */
  readonly model: { readonly id: string; readonly revision: string } | undefined;
  /** Embeds one clip sent as bytes; `meta` declares the format (needed for raw PCM). */
  extract(audio: Uint8Array, meta?: Omit<ExtractMeta, "path">): Promise<EmbeddingResult>;
  /** Embeds a file the worker reads itself: local mode, under the worker's AUDIO_ROOTS. */
  extractFile(path: string): Promise<EmbeddingResult>;
  /** One forward pass for many clips; a bad clip is reported in its item, not as a failed call. */
  extractBatch(clips: readonly BatchClip[]): Promise<BatchResult>;
  /** Cosine similarity of two vectors of one model. */
  similarity(a: readonly number[], b: readonly number[]): Promise<number>;
  /** L2-normalised mean of L2-normalised vectors of one model. */
  centroid(vectors: readonly (readonly number[])[]): Promise<CentroidReply>;
  models(): Promise<ModelsReply>;
  /**
   * Embeds one sample and `copies` seeded copies of it under simulated household conditions; `babble`
   * holds other household voices to make babble noise from (never the sample's own speaker).
   */
  augment(
    sample: AugmentSource,
    options: { copies: number; seed: number; babble?: readonly AugmentSource[] },
  ): Promise<AugmentReply>;
  /**
   * The first worker instance to answer that serves this client's subjects (of its model; else a live
   * one); WORKER_UNAVAILABLE when none does within the ping timeout.
   */
  ping(): Promise<WorkerPing>;
}

/** A typed client of the worker's `embedding` micro service; every failure is a SpeakersError with its code. */
export function createEmbeddingClient(
  target: NatsConnection | Pick<Bus, "nc">,
  options: EmbeddingClientOptions = {},
): EmbeddingClient {
  const bus = "nc" in target ? { nc: target.nc } : { nc: target };
  const timeoutMs = options.timeoutMs ?? 60_000;
  const batchTimeoutMs = options.batchTimeoutMs ?? 300_000;
  const pingTimeoutMs = options.pingTimeoutMs ?? 2_000;
  const model = options.model === undefined ? undefined : modelOf(options.model);
  const ENDPOINTS = model ? modelEmbeddingService(model).endpoints : SERVICES.embedding.endpoints;
  // A model-bound client checks every reply's model: a mismatch would put vectors into the wrong space.
  const checked = <T extends { model: { id: string; revision: string } }>(reply: T): T => {
    if (model && modelKey(reply.model) !== modelKey(model)) throw mismatch(model, reply.model);
    return reply;
  };

  const extractWith = async (payload: ExtractMeta, body: Uint8Array) =>
    checked(
      await call(bus, ENDPOINTS.extract, {
        request: ExtractMeta,
        payload,
        body,
        reply: EmbeddingResult,
        timeoutMs,
      }),
    );

  return {
    model,
    extract: (audio, meta = {}) => extractWith(meta, audio),
    // The worker checks paths against its roots, which are absolute; a relative path would mean the worker's cwd.
    extractFile: (path) => extractWith({ path: resolve(path) }, new Uint8Array(0)),
    async extractBatch(clips) {
      const items: BatchItemMeta[] = [];
      const parts: Uint8Array[] = [];
      for (const clip of clips) {
        if ("path" in clip) {
          items.push({ length: 0, path: resolve(clip.path) });
        } else {
          const { audio, ...declared } = clip;
          items.push({ length: audio.byteLength, ...declared });
          parts.push(audio);
        }
      }
      const result = await call(bus, ENDPOINTS.extractBatch, {
        request: ExtractBatchMeta,
        payload: { items },
        body: concat(parts),
        reply: BatchResult,
        timeoutMs: batchTimeoutMs,
      });
      for (const item of result.items) if (item.ok) checked(item.embedding);
      return result;
    },
    async augment(sample, { copies, seed, babble = [] }) {
      const parts: Uint8Array[] = [];
      const describe = (source: AugmentSource) => {
        if ("path" in source) return { length: 0, path: resolve(source.path) };
        const { audio, ...declared } = source;
        parts.push(audio);
        return { length: audio.byteLength, ...declared };
      };
      const payload: AugmentMeta = { sample: describe(sample), copies, seed };
      if (babble.length > 0) payload.babble = babble.map(describe);
      return checked(
        await call(bus, ENDPOINTS.augment, {
          request: AugmentMeta,
          payload,
          body: concat(parts),
          reply: AugmentReply,
          timeoutMs: batchTimeoutMs,
        }),
      );
    },
    async similarity(a, b) {
      const reply = await call(bus, ENDPOINTS.similarity, {
        request: SimilarityRequest,
        payload: { a: [...a], b: [...b] },
        reply: SimilarityReply,
        timeoutMs,
      });
      return reply.similarity;
    },
    centroid: (vectors) =>
      call(bus, ENDPOINTS.centroid, {
        request: CentroidRequest,
        payload: { embeddings: vectors.map((v) => [...v]) },
        reply: CentroidReply,
        timeoutMs,
      }),
    async models() {
      const reply = await request(bus, ENDPOINTS.models, undefined, { timeoutMs });
      let decoded: ModelsReply;
      try {
        decoded = decodeJson(ModelsReply, reply.data);
      } catch (err) {
        throw new SpeakersError("INTERNAL", "the worker's models reply breaks its contract", { cause: err });
      }
      if (model && modelKey(decoded.active) !== modelKey(model)) throw mismatch(model, decoded.active);
      return decoded;
    },
    ping: () =>
      firstPing(bus.nc, pingTimeoutMs, (p) =>
        model ? p.metadata.model_key === modelKey(model) : p.metadata.role !== "replay",
      ),
  };
}

function modelOf(choice: ModelChoice): { id: string; revision: string } {
  return typeof choice === "string" ? resolveModel(choice) : { id: choice.id, revision: choice.revision };
}

function mismatch(want: { id: string; revision: string }, got: { id: string; revision: string }) {
  return new SpeakersError(
    "MODEL_MISMATCH",
    `A worker of ${modelKey(got)} answered on the subjects of ${modelKey(want)}.`,
    { details: { expected: modelKey(want), actual: modelKey(got) } },
  );
}

/**
 * PING reaches every instance of the `embedding` service, live and replay, of every model; the first answer
 * that fits wins. (A worker older than the model subjects has no role and counts as live.)
 */
async function firstPing(
  nc: NatsConnection,
  timeoutMs: number,
  fits: (ping: WorkerPing) => boolean,
): Promise<WorkerPing> {
  let seen = 0;
  try {
    const replies = await nc.requestMany(PING_SUBJECT, undefined, { strategy: "timer", maxWait: timeoutMs });
    for await (const msg of replies) {
      seen += 1;
      const ping = toPing(parseJson(msg.data, "ping reply"));
      if (fits(ping)) return ping;
    }
  } catch (err) {
    if (err instanceof SpeakersError) throw err;
    // No responders or a closed connection: the same answer as silence.
  }
  throw new SpeakersError(
    "WORKER_UNAVAILABLE",
    seen === 0
      ? "No embedding worker answered."
      : `${seen} embedding worker(s) answered, none of the wanted model or role.`,
  );
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

function parseJson(data: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch (err) {
    throw new SpeakersError("INTERNAL", `the worker's ${what} is not JSON`, { cause: err });
  }
}

function toPing(value: unknown): WorkerPing {
  const v = value as Partial<WorkerPing> | null;
  if (!v || typeof v.id !== "string" || typeof v.name !== "string" || typeof v.version !== "string") {
    throw new SpeakersError("INTERNAL", "the worker's ping reply lacks id, name or version");
  }
  return { id: v.id, name: v.name, version: v.version, metadata: { ...(v.metadata ?? {}) } };
}
