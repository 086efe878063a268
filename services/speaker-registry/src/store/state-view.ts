/**
 * The entries of KV `registry-state` that identification reads on every embedding (a model's calibration,
 * its calibration settings and its cohort sources: `calibration.*`, `calibration-settings.*`, `sources.*`),
 * in memory, kept current by one KV watch of the bucket (this replica's writes and the others'). Reading
 * them from KV took up to three gets per identification, and the one-to-two-second caches in front of two
 * of them let a replica decide on another replica's old calibration or adaptation switch for that long.
 *
 * The cohort's vectors are kept too (`cohort-unknown.*` as JSON, `cohort-bank.*` as the stored base64 text):
 * the scoring index is built from them, and listing their keys took a throwaway consumer that a dead cluster
 * node can swallow (see SampleView). Both are capped (UNKNOWN_CAP, BANK_CAP), so the view stays bounded.
 *
 * Reads and writes follow `WatchedBucket`'s revisions, as the voiceprint view's do. Other keys of the bucket
 * (the live model) only advance the revision; their values are not kept.
 */
import type { KV, KvEntry } from "@nats-io/kv";
import type { Logger } from "@speakers/bus";
import { WatchedBucket } from "./watched-bucket.js";

/** The key prefixes whose values the view keeps. */
export const STATE_VIEW_PREFIXES = [
  "calibration.",
  "calibration-settings.",
  "sources.",
  "cohort-unknown.",
  "cohort-bank.",
] as const;
/** Kept as the stored text rather than parsed: base64, not JSON. */
const TEXT_PREFIXES = ["cohort-bank."] as const;

export class StateView extends WatchedBucket {
  /** key -> parsed JSON value of its last PUT, or why it could not be parsed (deleted keys are absent). */
  private readonly values = new Map<string, { value: unknown } | { error: unknown }>();

  /** Opens the watch and returns once the view holds every entry stored before the call. */
  static start(kv: KV, logger: Logger): Promise<StateView> {
    return WatchedBucket.started(new StateView(kv, logger, "registry state view"));
  }

  /**
   * The value of `key` as of the last entry the watch applied; undefined when absent. An unreadable value
   * throws here, as reading it from KV did.
   */
  get<T>(key: string): T | undefined {
    const held = this.values.get(key);
    if (held === undefined) return undefined;
    if ("error" in held) throw held.error;
    return held.value as T;
  }

  /** The keys the view holds that start with `prefix`, in no particular order. */
  keysWith(prefix: string): string[] {
    return [...this.values.keys()].filter((k) => k.startsWith(prefix));
  }

  protected take(entry: KvEntry): void {
    if (!STATE_VIEW_PREFIXES.some((p) => entry.key.startsWith(p))) return;
    this.values.delete(entry.key);
    if (entry.operation !== "PUT") return;
    try {
      const text = TEXT_PREFIXES.some((p) => entry.key.startsWith(p));
      this.values.set(entry.key, { value: text ? entry.string() : entry.json() });
    } catch (error) {
      this.values.set(entry.key, { error });
    }
  }
}
