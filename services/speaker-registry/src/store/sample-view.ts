/**
 * The `speaker-samples` bucket in memory, per model, kept current by one KV watch: what the scoring index is
 * built from. Building it used to list the bucket once per enrolled speaker, each listing a throwaway
 * ephemeral consumer. A SIGKILLed cluster node counts as online for placement until the survivors' orphan
 * sweep (5 missed 30 s heartbeats, nats-server events.go), so for minutes a third of those consumers were
 * placed on the dead node, never answered, and failed identification with a timeout while the cluster had
 * a quorum and every stream a leader. The view's own watch is opened once, at start.
 *
 * Memory is what the bucket holds for the household: every sample's embedding (clean, augmented copies and
 * adapted ones, each capped per speaker), a few hundred vectors of a few hundred floats.
 */
import type { KV, KvEntry } from "@nats-io/kv";
import type { Logger } from "@speakers/bus";
import type { ModelRef } from "@speakers/events";
import { ByModel } from "./by-model.js";
import type { SampleRecord } from "./records.js";
import { WatchedBucket } from "./watched-bucket.js";

export class SampleView extends WatchedBucket {
  private readonly samples = new ByModel<SampleRecord>();

  /** Opens the watch and returns once the view holds every sample stored before the call. */
  static start(kv: KV, logger: Logger): Promise<SampleView> {
    return WatchedBucket.started(new SampleView(kv, logger, "sample view"));
  }

  /**
   * Every sample of one model, copies included, oldest first (as the store lists them), as of the last entry
   * the watch applied.
   */
  ofModel(model: ModelRef): SampleRecord[] {
    return this.samples
      .of(model)
      .sort(([ka, a], [kb, b]) => a.addedAt.localeCompare(b.addedAt) || ka.localeCompare(kb))
      .map(([, record]) => record);
  }

  protected take(entry: KvEntry): void {
    this.samples.remove(entry.key);
    if (entry.operation !== "PUT") return;
    const record = this.parsed<SampleRecord>(entry, "sample");
    if (record) this.samples.set(entry.key, record.model, record);
  }
}
