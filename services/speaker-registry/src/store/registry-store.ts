/**
 * The registry's state in JetStream KV: profiles (with a name index), sample embeddings and voiceprints.
 * Voiceprints are derived data, rebuilt from the samples with compare-and-set, so concurrent enrollments
 * of one speaker both land and a restart finds exactly what was written.
 */
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import { type ObjectStore, Objm } from "@nats-io/obj";
import type { Bus } from "@speakers/bus";
import { KV_BUCKETS, type ModelRef, modelKey, OBJECT_STORES, SpeakersError } from "@speakers/events";
import { voiceprintOf } from "@speakers/scoring";
import {
  erasedKey,
  isValidSpeakerId,
  NAME_KEY_PREFIX,
  nameKey,
  newCandidateRef,
  normalizeName,
  speakerFilter,
  voiceprintKey,
} from "./keys.js";
import { isCopy, type ProfileRecord, type SampleRecord, type VoiceprintRecord } from "./records.js";
import type { SampleView } from "./sample-view.js";
import type { VoiceprintView } from "./voiceprint-view.js";

export interface Buckets {
  profiles: KV;
  samples: KV;
  voiceprints: KV;
  state: KV;
  clips: ObjectStore;
}

export async function openBuckets(bus: Bus): Promise<Buckets> {
  const kvm = new Kvm(bus.js);
  const [profiles, samples, voiceprints, state] = await Promise.all([
    kvm.open(KV_BUCKETS.speakers.name),
    kvm.open(KV_BUCKETS.speakerSamples.name),
    kvm.open(KV_BUCKETS.voiceprints.name),
    kvm.open(KV_BUCKETS.registryState.name),
  ]);
  const clips = await new Objm(bus.js).open(OBJECT_STORES.audioClips.name);
  return { profiles, samples, voiceprints, state, clips };
}

const encoder = new TextEncoder();

function encode(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

async function readJson<T>(kv: KV, key: string): Promise<{ value: T; revision: number } | undefined> {
  const entry = await kv.get(key);
  if (entry === null || entry.operation !== "PUT") return undefined;
  return { value: entry.json<T>(), revision: entry.revision };
}

async function collect(iterator: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const key of iterator) out.push(key);
  return out;
}

/** Lost a compare-and-set race (or a create found the key): re-read and try again. */
function isWrongLastSequence(err: unknown): boolean {
  if (err instanceof JetStreamApiError) {
    return (
      err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown
    );
  }
  return err instanceof Error && /wrong last sequence/i.test(err.message);
}

export class RegistryStore {
  /** Candidate refs never change while a speaker exists; erasure forgets them here (ADR 0004). */
  private readonly refs = new Map<string, string>();

  /**
   * `view` mirrors `buckets.voiceprints`; every voiceprint write here waits until it shows there.
   * `sampleView` mirrors `buckets.samples` for the scoring index (`samplesOfModel`).
   */
  constructor(
    readonly buckets: Buckets,
    readonly view: VoiceprintView,
    readonly sampleView: SampleView,
  ) {}

  /**
   * The ref stored events name this speaker by among candidates; undefined once the speaker is gone. A
   * profile from before refs existed gets one now, with compare-and-set, so every replica agrees on it.
   */
  async candidateRef(speakerId: string): Promise<string | undefined> {
    const cached = this.refs.get(speakerId);
    if (cached !== undefined) return cached;
    let profile = await this.profile(speakerId);
    if (profile !== undefined && profile.ref === undefined) {
      const fresh = newCandidateRef();
      profile = await this.updateProfile(speakerId, (p) => ({ ...p, ref: p.ref ?? fresh }));
    }
    if (profile?.ref === undefined) return undefined;
    this.refs.set(speakerId, profile.ref);
    return profile.ref;
  }

  forgetCandidateRef(speakerId: string): void {
    this.refs.delete(speakerId);
  }

  /**
   * Puts the speaker behind the erasure fence and waits until identification here no longer scores them.
   * The fence stays: it holds only the (random) id, and an identification that raced the erasure checks it
   * after publishing (ADR 0004).
   */
  async fenceErased(speakerId: string): Promise<void> {
    const revision = await this.buckets.voiceprints.put(
      erasedKey(speakerId),
      encode({ erasedAt: new Date().toISOString() }),
    );
    await this.view.waitFor(revision);
  }

  /**
   * True when the speaker is behind the erasure fence. Read from the bucket itself, not only the view: a
   * replica whose watch lags must still see a fence another replica wrote before this call.
   */
  async isErased(speakerId: string): Promise<boolean> {
    if (this.view.isErased(speakerId)) return true;
    const fence = await this.buckets.voiceprints.get(erasedKey(speakerId));
    return fence !== null && fence.operation === "PUT";
  }

  async profile(speakerId: string): Promise<ProfileRecord | undefined> {
    if (!isValidSpeakerId(speakerId)) return undefined;
    return (await readJson<ProfileRecord>(this.buckets.profiles, speakerId))?.value;
  }

  async requireProfile(speakerId: string): Promise<ProfileRecord> {
    const profile = await this.profile(speakerId);
    if (profile === undefined) {
      throw new SpeakersError("SPEAKER_NOT_FOUND", `No speaker has the id "${speakerId}".`, {
        details: { speakerId },
      });
    }
    return profile;
  }

  async idForName(name: string): Promise<string | undefined> {
    return (await readJson<string>(this.buckets.profiles, nameKey(name)))?.value;
  }

  /**
   * Claims a name for a new speaker id. Returns the id that holds the name afterwards: `speakerId` when the
   * claim won, or the id of whoever held it first.
   */
  async claimName(name: string, speakerId: string): Promise<string> {
    try {
      await this.buckets.profiles.create(nameKey(name), encode(speakerId));
      return speakerId;
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
      const holder = await this.idForName(name);
      if (holder === undefined) return this.claimName(name, speakerId);
      return holder;
    }
  }

  async releaseName(name: string, speakerId: string): Promise<void> {
    if ((await this.idForName(name)) === speakerId) await this.buckets.profiles.purge(nameKey(name));
  }

  /** Creates the profile unless it exists (a concurrent enrollment of the same new name made it). */
  async ensureProfile(profile: ProfileRecord): Promise<void> {
    try {
      await this.buckets.profiles.create(profile.id, encode(profile));
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
    }
  }

  /** Read-modify-write of a profile with compare-and-set; `change` may run more than once. */
  async updateProfile(
    speakerId: string,
    change: (p: ProfileRecord) => ProfileRecord,
  ): Promise<ProfileRecord> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const current = await readJson<ProfileRecord>(this.buckets.profiles, speakerId);
      if (current === undefined) return this.requireProfile(speakerId);
      const next = change(current.value);
      try {
        await this.buckets.profiles.update(speakerId, encode(next), current.revision);
        return next;
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
      }
    }
    throw new SpeakersError("CONFLICT", `The speaker "${speakerId}" kept changing; try again.`);
  }

  async profiles(): Promise<ProfileRecord[]> {
    const keys = await collect(await this.buckets.profiles.keys());
    const ids = keys.filter((k) => !k.startsWith(NAME_KEY_PREFIX));
    const found = await Promise.all(ids.map((id) => this.profile(id)));
    return found.filter((p): p is ProfileRecord => p !== undefined);
  }

  async putSample(sample: SampleRecord, key: string): Promise<void> {
    await this.buckets.samples.put(key, encode(sample));
  }

  /**
   * Every sample embedding of a speaker, of one model or of all; augmented copies only with `copies` (the
   * voiceprint, scoring and erasure want them; counts and quality gates are about real recordings).
   */
  async samples(
    speakerId: string,
    model?: ModelRef,
    options: { copies?: boolean } = {},
  ): Promise<{ key: string; record: SampleRecord }[]> {
    if (!isValidSpeakerId(speakerId)) return [];
    const keys = await collect(await this.buckets.samples.keys(speakerFilter(speakerId)));
    const wanted = model === undefined ? undefined : modelKey(model);
    const records = await Promise.all(
      keys.map(async (key) => ({
        key,
        record: (await readJson<SampleRecord>(this.buckets.samples, key))?.value,
      })),
    );
    return records
      .filter((r): r is { key: string; record: SampleRecord } => r.record !== undefined)
      .filter((r) => wanted === undefined || modelKey(r.record.model) === wanted)
      .filter((r) => options.copies === true || !isCopy(r.record))
      .sort((a, b) => a.record.addedAt.localeCompare(b.record.addedAt) || a.key.localeCompare(b.key));
  }

  /**
   * Every sample of one model, copies included, oldest first: what the scoring index and calibration are
   * built from. Read from the watched view once it holds everything the bucket held at the call, so no
   * listing (no throwaway consumer) runs per identification.
   */
  async samplesOfModel(model: ModelRef): Promise<SampleRecord[]> {
    await this.sampleView.sync();
    return this.sampleView.ofModel(model);
  }

  async voiceprint(speakerId: string, model: ModelRef): Promise<VoiceprintRecord | undefined> {
    return (await readJson<VoiceprintRecord>(this.buckets.voiceprints, voiceprintKey(speakerId, model)))
      ?.value;
  }

  async voiceprintsOfSpeaker(speakerId: string): Promise<VoiceprintRecord[]> {
    if (!isValidSpeakerId(speakerId)) return [];
    const keys = await collect(await this.buckets.voiceprints.keys(speakerFilter(speakerId)));
    const found = await Promise.all(keys.map((k) => readJson<VoiceprintRecord>(this.buckets.voiceprints, k)));
    return found.flatMap((f) => (f === undefined ? [] : [f.value]));
  }

  /**
   * Every voiceprint of one model: what identification scores against. Read from the watched view once it
   * holds everything the bucket held at the call, so another replica's finished write is always included.
   */
  async voiceprintsOfModel(model: ModelRef): Promise<VoiceprintRecord[]> {
    await this.view.sync();
    return this.view.voiceprints(model);
  }

  /** Purges a voiceprint with its history; returns once identification no longer scores against it. */
  async purgeVoiceprint(speakerId: string, model: ModelRef, previousSeq?: number): Promise<void> {
    await this.buckets.voiceprints.purge(
      voiceprintKey(speakerId, model),
      previousSeq === undefined ? undefined : { previousSeq },
    );
    // A purge does not return its revision; the bucket's last one is at least that.
    await this.view.sync();
  }

  /**
   * Recomputes a speaker's voiceprint for one model from its samples, with compare-and-set. The revision is
   * read BEFORE the samples are listed: a writer that listed too early then finds the revision moved and
   * lists again, so the last voiceprint written always includes every sample stored before it.
   */
  async rebuildVoiceprint(speakerId: string, model: ModelRef): Promise<VoiceprintRecord | undefined> {
    const key = voiceprintKey(speakerId, model);
    for (let attempt = 0; attempt < 50; attempt++) {
      const entry = await this.buckets.voiceprints.get(key);
      // The stored voiceprint stays the clean recordings' mean (what verify and the uncalibrated rule read);
      // the multi-condition one is built by the scoring index from every sample (ADR 0003).
      const samples = await this.samples(speakerId, model);
      try {
        if (samples.length === 0) {
          if (entry !== null && entry.operation === "PUT") {
            await this.purgeVoiceprint(speakerId, model, entry.revision);
          }
          return undefined;
        }
        const record: VoiceprintRecord = {
          speakerId,
          model,
          vector: voiceprintOf(samples.map((s) => s.record.vector)),
          sampleIds: samples.map((s) => s.record.sampleId),
          updatedAt: new Date().toISOString(),
        };
        const revision =
          entry === null
            ? await this.buckets.voiceprints.create(key, encode(record))
            : await this.buckets.voiceprints.update(key, encode(record), entry.revision);
        // The caller replies next; identification must already score against what was just written.
        await this.view.waitFor(revision);
        return record;
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
        await new Promise((r) => setTimeout(r, Math.random() * 5 * (attempt + 1)));
      }
    }
    throw new SpeakersError("CONFLICT", `The voiceprint of "${speakerId}" kept changing; try again.`);
  }

  /** Removes a KV entry and its history: a purge leaves one marker with no value behind. */
  async purge(kv: KV, key: string): Promise<void> {
    await kv.purge(key);
  }

  static sameName(a: string, b: string): boolean {
    return normalizeName(a) === normalizeName(b);
  }
}
