/**
 * The `voiceprints` bucket in memory, per model key, kept current by one KV watch (initial values, then every
 * put, delete and purge, this replica's and the others'). Identification scores against it: listing the
 * bucket on every embedding took a throwaway consumer plus one get per key, and on nats-server 2.11 with a
 * cluster node down that consumer may land on the dead node and time out (nats-server#7165).
 *
 * Reads stay consistent with writes through `WatchedBucket`'s revisions, so a request answered by one
 * replica sees what another replica wrote before it replied.
 *
 * The bucket also holds erasure fences (`erased.<speakerId>`, ADR 0004): a fenced speaker is never scored,
 * even if a voiceprint of theirs reappears (an enrollment that raced the erasure).
 */
import type { KV, KvEntry } from "@nats-io/kv";
import type { Logger } from "@speakers/bus";
import { type ModelRef, modelKey } from "@speakers/events";
import { ERASED_KEY_PREFIX } from "./keys.js";
import type { VoiceprintRecord } from "./records.js";
import { WatchedBucket } from "./watched-bucket.js";

export class VoiceprintView extends WatchedBucket {
  /** model key -> KV key -> voiceprint */
  private readonly byModel = new Map<string, Map<string, VoiceprintRecord>>();
  /** KV key -> model key: a delete or purge carries no value to say which model it was. */
  private readonly modelOfKey = new Map<string, string>();
  /** Speakers behind an erasure fence. */
  private readonly erased = new Set<string>();

  /** Opens the watch and returns once the view holds every voiceprint stored before the call. */
  static start(kv: KV, logger: Logger): Promise<VoiceprintView> {
    return WatchedBucket.started(new VoiceprintView(kv, logger, "voiceprint view"));
  }

  /** Every voiceprint of one model, as of the last entry the watch applied. */
  voiceprints(model: ModelRef): VoiceprintRecord[] {
    return [...(this.byModel.get(modelKey(model))?.values() ?? [])].filter(
      (v) => !this.erased.has(v.speakerId),
    );
  }

  /** True once the view has applied the speaker's erasure fence. */
  isErased(speakerId: string): boolean {
    return this.erased.has(speakerId);
  }

  protected take(entry: KvEntry): void {
    this.remove(entry.key);
    if (entry.key.startsWith(ERASED_KEY_PREFIX)) {
      const speakerId = entry.key.slice(ERASED_KEY_PREFIX.length);
      if (entry.operation === "PUT") this.erased.add(speakerId);
      else this.erased.delete(speakerId);
    } else if (entry.operation === "PUT") {
      try {
        const record = entry.json<VoiceprintRecord>();
        const model = modelKey(record.model);
        let entries = this.byModel.get(model);
        if (entries === undefined) {
          entries = new Map();
          this.byModel.set(model, entries);
        }
        entries.set(entry.key, record);
        this.modelOfKey.set(entry.key, model);
      } catch (err) {
        this.logger.warn({ err, key: entry.key }, "unreadable voiceprint; left out of identification");
      }
    }
  }

  private remove(key: string): void {
    const model = this.modelOfKey.get(key);
    if (model === undefined) return;
    this.modelOfKey.delete(key);
    const entries = this.byModel.get(model);
    entries?.delete(key);
    if (entries?.size === 0) this.byModel.delete(model);
  }
}
