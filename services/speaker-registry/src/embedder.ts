/**
 * What the registry needs from the embedding worker: the embedding client's calls. `createRegistry` takes a
 * client (tests may pass their own); by default it makes one on its bus.
 */
import type { EmbeddingClient } from "@speakers/embedding-client";
import type { EmbeddingResult, ExtractMeta } from "@speakers/events";

export type Embedder = Pick<
  EmbeddingClient,
  "extract" | "extractFile" | "extractBatch" | "models" | "augment"
>;

/** One clip: audio bytes with format hints, or an empty body and `meta.path` (the worker's local mode). */
export function embedClip(
  embedder: Embedder,
  audio: Uint8Array,
  meta: ExtractMeta,
): Promise<EmbeddingResult> {
  const { path, ...format } = meta;
  return path === undefined ? embedder.extract(audio, format) : embedder.extractFile(path);
}
