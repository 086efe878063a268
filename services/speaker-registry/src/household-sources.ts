/**
 * The household's sources beside enrollment (ADR 0003), per model in KV `registry-state`:
 *
 * - `sources.<model token>`: the adaptation switch, the imported bank's description, how many unknown voices
 *   were kept, and a generation the scoring index is rebuilt on (bumped by an import, a clear, an adapted
 *   sample, and every UNKNOWN_REBUILD_EVERY unknown voices, so a busy room does not rebuild it per clip);
 * - `cohort-bank.<model token>.<chunk>`: the imported bank, float32 little-endian in base64;
 * - `cohort-unknown.<model token>.<slot>`: a ring of UNKNOWN_CAP embeddings of clips decided unknown, each
 *   with the candidate it was closest to (never in that speaker's own cohort statistics: it may be their
 *   voice, unrecognised).
 */
import { type KV, Kvm } from "@nats-io/kv";
import type { Bus } from "@speakers/bus";
import { type CohortReply, KV_BUCKETS, type ModelRef, modelToken, SpeakersError } from "@speakers/events";
import type { CohortEntry } from "@speakers/scoring";
import type { StateView } from "./store/state-view.js";

export const UNKNOWN_CAP = 200;
export const UNKNOWN_REBUILD_EVERY = 20;
export const BANK_CAP = 5000;

export interface SourcesState {
  adaptation?: { enabled: boolean; changedAt: string };
  bank?: { count: number; chunks: number; importedAt: string; label?: string };
  unknown: { added: number };
  generation: number;
  /** Adapted samples since the last recalibration that adaptation asked for (it debounces on this). */
  adaptedSinceCalibration?: number;
}

interface UnknownEntry {
  vector: number[];
  /** The best candidate when it was heard: left out of that speaker's statistics. */
  nearest?: string;
  sourceEventId: string;
  addedAt: string;
}

const EMPTY: SourcesState = { unknown: { added: 0 }, generation: 0 };
const sourcesKey = (model: ModelRef) => `sources.${modelToken(model)}`;
const bankPrefix = (model: ModelRef) => `cohort-bank.${modelToken(model)}`;
const unknownPrefix = (model: ModelRef) => `cohort-unknown.${modelToken(model)}`;

function encodeVector(v: readonly number[]): string {
  return Buffer.from(new Float32Array(v).buffer).toString("base64");
}

function decodeVectors(text: string, dim: number): number[][] {
  const bytes = Buffer.from(text, "base64");
  const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const out: number[][] = [];
  for (let i = 0; i + dim <= all.length; i += dim) out.push(Array.from(all.subarray(i, i + dim)));
  return out;
}

/** Bank chunks in the order they were imported (`cohort-bank.<model>.<n>`). */
function byChunk(a: string, b: string): number {
  return Number(a.split(".").pop()) - Number(b.split(".").pop());
}

export class HouseholdSources {
  private kv: KV | undefined;

  /** `view` mirrors `registry-state`: the sources record is read there, never from KV per identification. */
  constructor(
    private readonly bus: () => Bus,
    private readonly view: () => StateView,
  ) {}

  private async state(): Promise<KV> {
    this.kv ??= await new Kvm(this.bus().js).open(KV_BUCKETS.registryState.name);
    return this.kv;
  }

  /** The model's sources record, with every change any replica finished before the call. */
  async get(model: ModelRef): Promise<SourcesState> {
    await this.view().sync();
    return this.held(model);
  }

  /**
   * The model's sources record as the view holds it now, without checking the bucket: for a caller that
   * synced the view a moment ago (identification, right after its scoring index was looked up).
   */
  held(model: ModelRef): SourcesState {
    const stored = this.view().get<SourcesState>(sourcesKey(model));
    return stored === undefined ? EMPTY : { ...EMPTY, ...stored };
  }

  /** Read-modify-write with compare-and-set (replicas write it too). */
  async update(model: ModelRef, change: (s: SourcesState) => SourcesState): Promise<SourcesState> {
    const kv = await this.state();
    const key = sourcesKey(model);
    for (let attempt = 0; attempt < 30; attempt++) {
      const entry = await kv.get(key);
      const current = entry?.operation === "PUT" ? { ...EMPTY, ...entry.json<SourcesState>() } : EMPTY;
      const next = change(current);
      try {
        const revision =
          entry === null || entry.operation !== "PUT"
            ? await kv.create(key, JSON.stringify(next))
            : await kv.update(key, JSON.stringify(next), entry.revision);
        // Reads here see the write from now on, as they did from the cache this replaced.
        await this.view().waitFor(revision);
        return next;
      } catch (err) {
        if (!/wrong last sequence|key exists/i.test(err instanceof Error ? err.message : String(err))) {
          throw err;
        }
        await new Promise((r) => setTimeout(r, Math.random() * 5 * (attempt + 1)));
      }
    }
    throw new SpeakersError("CONFLICT", "The household's cohort sources kept changing; try again.");
  }

  /** What the scoring index is rebuilt on. */
  signature(s: SourcesState): string {
    return `${s.generation}:${Math.floor(s.unknown.added / UNKNOWN_REBUILD_EVERY)}`;
  }

  async bump(model: ModelRef): Promise<void> {
    await this.update(model, (s) => ({ ...s, generation: s.generation + 1 }));
  }

  /** Appends (or, with `replace`, starts) the imported bank with one chunk of vectors. */
  async importChunk(
    model: ModelRef,
    vectors: readonly (readonly number[])[],
    options: { replace?: boolean; label?: string },
  ): Promise<SourcesState> {
    for (const v of vectors) {
      if (v.length !== model.dim) {
        throw new SpeakersError("EMBEDDING_DIM_MISMATCH", undefined, {
          details: { expected: model.dim, actual: v.length },
        });
      }
      if (!v.every(Number.isFinite) || v.every((x) => x === 0)) {
        throw new SpeakersError("INVALID_REQUEST", "A cohort vector must be finite and not all zero.");
      }
    }
    const kv = await this.state();
    if (options.replace) await this.clearBank(model);
    const current = await this.get(model);
    const chunks = options.replace ? 0 : (current.bank?.chunks ?? 0);
    const count = options.replace ? 0 : (current.bank?.count ?? 0);
    if (count + vectors.length > BANK_CAP) {
      throw new SpeakersError("INVALID_REQUEST", `A cohort bank holds at most ${BANK_CAP} vectors.`, {
        details: { stored: count, adding: vectors.length },
      });
    }
    const flat = vectors.flatMap((v) => [...v]);
    await kv.put(`${bankPrefix(model)}.${chunks}`, encodeVector(flat));
    return this.update(model, (s) => ({
      ...s,
      bank: {
        count: (options.replace ? 0 : (s.bank?.count ?? 0)) + vectors.length,
        chunks: (options.replace ? 0 : (s.bank?.chunks ?? 0)) + 1,
        importedAt: new Date().toISOString(),
        ...(options.label === undefined ? {} : { label: options.label }),
      },
      generation: s.generation + 1,
    }));
  }

  /**
   * The cohort keys under `prefix`, from the view (synced first) rather than a KV listing: a listing takes a
   * throwaway consumer, which a dead cluster node can swallow (see SampleView).
   */
  private async heldKeys(prefix: string): Promise<string[]> {
    const view = this.view();
    await view.sync();
    return view.keysWith(prefix);
  }

  private async clearBank(model: ModelRef): Promise<void> {
    const kv = await this.state();
    for (const k of await this.heldKeys(`${bankPrefix(model)}.`)) await kv.purge(k);
  }

  /** Clears the imported bank and the unknown voices of the model. */
  async clear(model: ModelRef): Promise<SourcesState> {
    const kv = await this.state();
    await this.clearBank(model);
    for (const k of await this.heldKeys(`${unknownPrefix(model)}.`)) await kv.purge(k);
    return this.update(model, (s) => {
      const { bank: _bank, ...rest } = s;
      return { ...rest, unknown: { added: 0 }, generation: s.generation + 1 };
    });
  }

  /** Keeps one unknown-decided clip's embedding in the ring (the oldest slot is overwritten). */
  async addUnknown(model: ModelRef, entry: Omit<UnknownEntry, "addedAt">): Promise<void> {
    const next = await this.update(model, (s) => ({ ...s, unknown: { added: s.unknown.added + 1 } }));
    const slot = (next.unknown.added - 1) % UNKNOWN_CAP;
    const value: UnknownEntry = { ...entry, addedAt: new Date().toISOString() };
    await (await this.state()).put(`${unknownPrefix(model)}.${slot}`, JSON.stringify(value));
  }

  /** Unknown voices closest to an erased speaker may be that speaker's: they go with them (ADR 0004). */
  async forgetNearest(speakerId: string): Promise<number> {
    const kv = await this.state();
    let n = 0;
    for (const k of await this.heldKeys("cohort-unknown.")) {
      if (this.view().get<UnknownEntry>(k)?.nearest === speakerId) {
        await kv.purge(k);
        n++;
      }
    }
    return n;
  }

  /**
   * Cohort entries of both sources: unknown voices carry their nearest speaker, the bank nobody. Read from
   * the view (synced first), not listed from KV: the scoring index is built from it.
   */
  async cohort(model: ModelRef): Promise<{ unknown: CohortEntry[]; imported: CohortEntry[] }> {
    const view = this.view();
    await view.sync();
    const unknown = view.keysWith(`${unknownPrefix(model)}.`).flatMap((k) => view.get<UnknownEntry>(k) ?? []);
    const bank = view
      .keysWith(`${bankPrefix(model)}.`)
      .sort(byChunk)
      .flatMap((k) => decodeVectors(view.get<string>(k) ?? "", model.dim));
    return {
      unknown: unknown
        .filter((u) => u.vector.length === model.dim)
        .map((u) => ({ speakerId: u.nearest, vector: u.vector })),
      imported: bank.map((vector) => ({ speakerId: undefined, vector })),
    };
  }

  async reply(model: ModelRef): Promise<CohortReply> {
    const s = await this.get(model);
    return {
      model,
      imported: s.bank?.count ?? 0,
      ...(s.bank === undefined ? {} : { importedAt: s.bank.importedAt }),
      ...(s.bank?.label === undefined ? {} : { label: s.bank.label }),
      unknown: Math.min(s.unknown.added, UNKNOWN_CAP),
      unknownCap: UNKNOWN_CAP,
    };
  }
}
