/**
 * The entries of KV `registry-state` that identification reads on every embedding (a model's calibration,
 * its calibration settings and its cohort sources: `calibration.*`, `calibration-settings.*`, `sources.*`),
 * in memory, kept current by one KV watch of the bucket (this replica's writes and the others'). Reading
 * them from KV took up to three gets per identification, and the one-to-two-second caches in front of two
 * of them let a replica decide on another replica's old calibration or adaptation switch for that long.
 *
 * The same revision discipline as the voiceprint view: a writer waits until the watch has applied the
 * revision it wrote, and `sync()` (one stream info request) waits until the watch has applied the bucket's
 * last revision, so a read after `sync()` sees every change another replica finished before it. Other keys
 * of the bucket (the live model, the cohort's vectors) only advance the revision; their values are not kept.
 */
import type { KV, KvEntry } from "@nats-io/kv";
import type { Logger } from "@speakers/bus";

/** The key prefixes whose values the view keeps. */
export const STATE_VIEW_PREFIXES = ["calibration.", "calibration-settings.", "sources."] as const;
/** How long a read waits for the watch to catch up before it answers from what the view holds. */
const SYNC_TIMEOUT_MS = 2_000;
/** A watch that ended on its own (its consumer lost) is opened again after this pause. */
const REWATCH_DELAY_MS = 500;

interface Waiter {
  revision: number;
  resolve: (seen: boolean) => void;
}

export class StateView {
  /** key -> parsed JSON value of its last PUT, or why it could not be parsed (deleted keys are absent). */
  private readonly values = new Map<string, { value: unknown } | { error: unknown }>();
  private waiters: Waiter[] = [];
  private seen = 0;
  private stopped = false;
  private watch: { stop(): void } | undefined;
  private loop: Promise<void> = Promise.resolve();

  private constructor(
    readonly kv: KV,
    private readonly logger: Logger,
  ) {}

  /** Opens the watch and returns once the view holds every entry stored before the call. */
  static async start(kv: KV, logger: Logger): Promise<StateView> {
    const view = new StateView(kv, logger);
    await view.open();
    await view.sync();
    return view;
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

  /** The last revision of the bucket this view has applied. */
  revision(): number {
    return this.seen;
  }

  /** Waits until the watch has applied `revision`; false (and logged) when it has not within the timeout. */
  async waitFor(revision: number, timeoutMs = SYNC_TIMEOUT_MS): Promise<boolean> {
    if (this.seen >= revision) return true;
    const seen = await new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        revision,
        resolve: (seen) => {
          clearTimeout(timer);
          resolve(seen);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      this.waiters.push(waiter);
    });
    if (!seen && !this.stopped) this.logger.warn({ revision, seen: this.seen }, "registry state view behind");
    return seen;
  }

  /**
   * Waits until the view has applied everything the bucket held when called. On a timeout or error it logs
   * and returns: a view a moment behind beats failing the identification.
   */
  async sync(timeoutMs = SYNC_TIMEOUT_MS): Promise<void> {
    try {
      const last = (await withTimeout(this.kv.status(), timeoutMs)).streamInfo.state.last_seq;
      await this.waitFor(last, timeoutMs);
    } catch (err) {
      this.logger.warn({ err, seen: this.seen }, "registry state view could not check the bucket");
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watch?.stop();
    await this.loop;
    for (const w of this.waiters) w.resolve(false);
    this.waiters = [];
  }

  private async open(): Promise<void> {
    // After a lost watch, resume right after the last applied revision: nothing missed, nothing out of order.
    const updates = await this.kv.watch(this.seen > 0 ? { resumeFromRevision: this.seen + 1 } : {});
    this.watch = updates;
    this.loop = (async () => {
      try {
        for await (const entry of updates) this.apply(entry);
      } catch (err) {
        this.logger.error({ err }, "registry state watch failed");
      }
      if (!this.stopped) this.reopen();
    })();
  }

  private reopen(): void {
    this.logger.warn({ seen: this.seen }, "registry state watch ended; watching again");
    setTimeout(() => {
      if (this.stopped) return;
      this.open().catch((err: unknown) => {
        this.logger.error({ err }, "registry state watch could not be reopened");
        this.reopen();
      });
    }, REWATCH_DELAY_MS);
  }

  private apply(entry: KvEntry): void {
    if (entry.revision <= this.seen) return;
    if (STATE_VIEW_PREFIXES.some((p) => entry.key.startsWith(p))) {
      this.values.delete(entry.key);
      if (entry.operation === "PUT") {
        try {
          this.values.set(entry.key, { value: entry.json() });
        } catch (error) {
          this.values.set(entry.key, { error });
        }
      }
    }
    this.seen = entry.revision;
    const ready = this.waiters.filter((w) => w.revision <= this.seen);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.revision > this.seen);
    for (const w of ready) w.resolve(true);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
