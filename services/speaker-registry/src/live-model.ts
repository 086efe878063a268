/**
 * The live model: the one model key whose embeddings the registry identifies. It lives in KV `registry-state`
 * so every replica and every restart agree; the first registry to start adopts the worker's active model.
 */
import type { KV } from "@nats-io/kv";
import { type ModelRef, SpeakersError } from "@speakers/events";
import type { Embedder } from "./embedder.js";

export const LIVE_MODEL_KEY = "live-model";

export async function readLiveModel(state: KV): Promise<ModelRef | undefined> {
  const entry = await state.get(LIVE_MODEL_KEY);
  if (entry === null || entry.operation !== "PUT") return undefined;
  return entry.json<ModelRef>();
}

/** The stored live model, or the worker's active one stored now (the first writer wins a race). */
export async function resolveLiveModel(state: KV, embedder: Embedder): Promise<ModelRef> {
  const stored = await readLiveModel(state);
  if (stored !== undefined) return stored;
  const { active } = await embedder.models();
  const model: ModelRef = { id: active.id, revision: active.revision, dim: active.dim };
  try {
    await state.create(LIVE_MODEL_KEY, new TextEncoder().encode(JSON.stringify(model)));
  } catch {
    // Another registry stored one first: use theirs.
  }
  const now = await readLiveModel(state);
  if (now === undefined) throw new SpeakersError("INTERNAL", "The live model could not be stored.");
  return now;
}

export async function setLiveModel(state: KV, model: ModelRef): Promise<void> {
  await state.put(LIVE_MODEL_KEY, new TextEncoder().encode(JSON.stringify(model)));
}
