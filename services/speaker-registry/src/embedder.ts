/**
 * What the registry needs from the embedding worker. `createRegistry` takes any implementation; `workerEmbedder`
 * is the real one over the worker's `embedding` micro service.
 */
import { type Bus, call, request } from "@speakers/bus";
import {
  decodeJson,
  EmbeddingResult,
  type EmbeddingResult as EmbeddingResultPayload,
  ExtractMeta,
  type ExtractMeta as ExtractMetaPayload,
  ModelsReply,
  type ModelsReply as ModelsReplyPayload,
  SERVICES,
} from "@speakers/events";

export interface Embedder {
  /** One clip: audio bytes with format hints, or an empty body and `meta.path` (worker's local mode). */
  extract(audio: Uint8Array, meta: ExtractMetaPayload): Promise<EmbeddingResultPayload>;
  models(): Promise<ModelsReplyPayload>;
}

export interface WorkerEmbedderOptions {
  /** Per clip; the worker queues clips behind each other on two cores (default 60 s). */
  timeoutMs?: number;
}

export function workerEmbedder(bus: Bus, options: WorkerEmbedderOptions = {}): Embedder {
  const timeoutMs = options.timeoutMs ?? 60_000;
  return {
    extract: (audio, meta) =>
      call(bus, SERVICES.embedding.endpoints.extract, {
        request: ExtractMeta,
        payload: meta,
        body: audio,
        reply: EmbeddingResult,
        timeoutMs,
      }),
    models: async () => {
      const reply = await request(bus, SERVICES.embedding.endpoints.models, undefined, { timeoutMs });
      return decodeJson(ModelsReply, reply.data);
    },
  };
}
