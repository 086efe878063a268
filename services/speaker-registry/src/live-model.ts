/**
 * The live model: the one model key whose embeddings the registry identifies. It lives in KV `registry-state`
 * so every replica and every restart agree; the first registry to start adopts the worker's active model.
 */
import { type KV, Kvm } from "@nats-io/kv";
import type { Bus } from "@speakers/bus";
import { createEmbeddingClient, type EmbeddingClient, type WorkerPing } from "@speakers/embedding-client";
import { KV_BUCKETS, MODELS, type ModelRef, modelKey, SpeakersError } from "@speakers/events";
import type { Embedder } from "./embedder.js";
import { modelVoiceprintsFilter } from "./store/keys.js";

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

export interface SwitchLiveModelDeps {
  bus: Bus;
  /** How to reach a worker of the model (default: the embedding client bound to it). */
  embedder?: Pick<EmbeddingClient, "ping">;
}

/**
 * `speakers model use`: makes `model` the live model in `registry-state`; every running registry follows
 * the change. Refused while the model has no voiceprints (identification would call everyone unknown) or no
 * worker of it answers (nothing would embed live audio in its space).
 */
export async function switchLiveModel(
  deps: SwitchLiveModelDeps,
  model: ModelRef,
): Promise<{ from: ModelRef | undefined; to: ModelRef; voiceprints: number; worker: WorkerPing }> {
  const { state, voiceprints } = await openStateAndVoiceprints(deps.bus);
  const from = await readLiveModel(state);
  const count = (await collectKeys(await voiceprints.keys(modelVoiceprintsFilter(model)))).length;
  if (count === 0) {
    throw new SpeakersError("NO_VOICEPRINT", `No speaker has a voiceprint for ${modelKey(model)} yet.`, {
      hint: `Build them first: speakers replay --model ${modelKey(model)}`,
      details: { model: modelKey(model) },
    });
  }
  const client = deps.embedder ?? createEmbeddingClient(deps.bus, { model });
  let worker: WorkerPing;
  try {
    worker = await client.ping();
  } catch (err) {
    throw new SpeakersError("WORKER_UNAVAILABLE", `No worker of ${modelKey(model)} answers.`, {
      hint: `Start the live worker with this model first: ${workerCommandFor(model)}`,
      details: { model: modelKey(model) },
      cause: err,
    });
  }
  await setLiveModel(state, model);
  return { from, to: model, voiceprints: count, worker };
}

/** How an operator starts the live worker of a model (printed by the CLI; the registry does not start it). */
export function workerCommandFor(model: ModelRef): string {
  // Local unverified weights (`local-…`, ADR 0005) are the same architecture loaded from a folder.
  const local = model.revision.startsWith("local-");
  const name =
    Object.entries(MODELS).find(([, m]) =>
      local ? m.id === model.id : modelKey(m) === modelKey(model),
    )?.[0] ?? modelKey(model);
  const source = local ? " MODEL_SOURCE=<the folder of those weights>" : "";
  return `SPEAKERS_MODEL=${name}${source} python -m speaker_worker (in services/embedding-worker)`;
}

/** Every voiceprint of one model, read-only: what a replay's report scores against. */
export async function readVoiceprints(
  bus: Bus,
  model: ModelRef,
): Promise<{ speakerId: string; vector: number[] }[]> {
  const { voiceprints } = await openStateAndVoiceprints(bus);
  const keys = await collectKeys(await voiceprints.keys(modelVoiceprintsFilter(model)));
  const out: { speakerId: string; vector: number[] }[] = [];
  for (const key of keys) {
    const entry = await voiceprints.get(key);
    if (entry === null || entry.operation !== "PUT") continue;
    const record = entry.json<{ speakerId: string; vector: number[] }>();
    out.push({ speakerId: record.speakerId, vector: record.vector });
  }
  return out.sort((a, b) => a.speakerId.localeCompare(b.speakerId));
}

async function openStateAndVoiceprints(bus: Bus): Promise<{ state: KV; voiceprints: KV }> {
  const kvm = new Kvm(bus.js);
  const [state, voiceprints] = await Promise.all([
    kvm.open(KV_BUCKETS.registryState.name),
    kvm.open(KV_BUCKETS.voiceprints.name),
  ]);
  return { state, voiceprints };
}

async function collectKeys(iterator: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const key of iterator) out.push(key);
  return out;
}
