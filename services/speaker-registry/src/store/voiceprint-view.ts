/**
 * The `voiceprints` bucket in memory, per model key, kept current by one KV watch (initial values, then every
 * put, delete and purge, this replica's and the others'). Identification scores against it: listing the
 * bucket on every embedding took a throwaway consumer plus one get per key, and with a cluster node down that
 * consumer may land on the dead node and time out (see SampleView).
 *
 * Reads stay consistent with writes through `WatchedBucket`'s revisions, so a request answered by one
 * replica sees what another replica wrote before it replied.
 *
 * The bucket also holds erasure fences (`erased.<speakerId>`, ADR 0004): a fenced speaker is never scored,
 * even if a voiceprint of theirs reappears (an enrollment that raced the erasure).
 */
import type { KV, KvEntry } from "@nats-io/kv";
import type { Logger } from "@speakers/bus";
import type { ModelRef } from "@speakers/events";
import { ByModel } from "./by-model.js";
import { ERASED_KEY_PREFIX } from "./keys.js";
import type { VoiceprintRecord } from "./records.js";
import { WatchedBucket } from "./watched-bucket.js";

export class VoiceprintView extends WatchedBucket {
  private readonly voiceprintsByModel = new ByModel<VoiceprintRecord>();
  /** Speakers behind an erasure fence. */
  private readonly erased = new Set<string>();

  /** Opens the watch and returns once the view holds every voiceprint stored before the call. */
  static start(kv: KV, logger: Logger): Promise<VoiceprintView> {
    return WatchedBucket.started(new VoiceprintView(kv, logger, "voiceprint view"));
  }

  /** Every voiceprint of one model, as of the last entry the watch applied. */
  voiceprints(model: ModelRef): VoiceprintRecord[] {
    return this.voiceprintsByModel
      .of(model)
      .map(([, v]) => v)
      .filter((v) => !this.erased.has(v.speakerId));
  }

  /** True once the view has applied the speaker's erasure fence. */
  isErased(speakerId: string): boolean {
    return this.erased.has(speakerId);
  }

  protected take(entry: KvEntry): void {
    this.voiceprintsByModel.remove(entry.key);
    if (entry.key.startsWith(ERASED_KEY_PREFIX)) {
      const speakerId = entry.key.slice(ERASED_KEY_PREFIX.length);
      if (entry.operation === "PUT") this.erased.add(speakerId);
      else this.erased.delete(speakerId);
    } else if (entry.operation === "PUT") {
      const record = this.parsed<VoiceprintRecord>(entry, "voiceprint");
      if (record) this.voiceprintsByModel.set(entry.key, record.model, record);
    }
  }
}
