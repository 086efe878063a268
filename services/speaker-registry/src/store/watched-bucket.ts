/**
 * A KV bucket held in memory by one watch (initial values, then every put, delete and purge, this replica's
 * and the others'), with reads kept consistent with writes through revisions: a writer waits until the
 * watch has applied the revision it wrote, and `sync()` (one stream info request, no consumer) waits until
 * the watch has applied the bucket's last revision, so a read after `sync()` sees every change another
 * replica finished before it. A watch that ends on its own resumes right after the last applied revision.
 * What a view keeps of each entry is its subclass's `take`.
 */
import type { KV, KvEntry } from "@nats-io/kv";
import type { Logger } from "@speakers/bus";

/** How long a read waits for the watch to catch up before it answers from what the view holds. */
const SYNC_TIMEOUT_MS = 2_000;
/** A watch that ended on its own (its consumer lost) is opened again after this pause. */
const REWATCH_DELAY_MS = 500;

interface Waiter {
  revision: number;
  resolve: (seen: boolean) => void;
}

export abstract class WatchedBucket {
  private waiters: Waiter[] = [];
  private seen = 0;
  private stopped = false;
  private watch: { stop(): void } | undefined;
  private loop: Promise<void> = Promise.resolve();

  protected constructor(
    readonly kv: KV,
    protected readonly logger: Logger,
    /** For the log: "voiceprint view", "registry state view". */
    private readonly what: string,
  ) {}

  /** Applies one entry newer than every entry applied before. */
  protected abstract take(entry: KvEntry): void;

  /** A PUT's JSON value; an unreadable one is logged and left out (undefined), never fatal to the watch. */
  protected parsed<T>(entry: KvEntry, what: string): T | undefined {
    try {
      return entry.json<T>();
    } catch (err) {
      this.logger.warn({ err, key: entry.key }, `unreadable ${what}; left out of identification`);
      return undefined;
    }
  }

  /** Opens the view's watch and returns it once it holds every entry stored before the call. */
  protected static async started<V extends WatchedBucket>(view: V): Promise<V> {
    await view.open();
    await view.sync();
    return view;
  }

  /** The last revision of the bucket this view has applied. */
  revision(): number {
    return this.seen;
  }

  /**
   * Waits until the watch has applied `revision`. False (and logged) when it has not within the timeout: the
   * write is in KV and the view still applies it, only later; failing the request would help nobody.
   */
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
    if (!seen && !this.stopped) this.logger.warn({ revision, seen: this.seen }, `${this.what} behind`);
    return seen;
  }

  /**
   * Waits until the view has applied everything the bucket held when called. On a timeout or error it logs
   * and returns: a view a moment behind beats failing the request.
   */
  async sync(timeoutMs = SYNC_TIMEOUT_MS): Promise<void> {
    try {
      const last = (await withTimeout(this.kv.status(), timeoutMs)).streamInfo.state.last_seq;
      await this.waitFor(last, timeoutMs);
    } catch (err) {
      this.logger.warn({ err, seen: this.seen }, `${this.what} could not check the bucket`);
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
    // After a lost watch, resume right after the last applied revision: every change since then is replayed
    // in order, so nothing is missed and nothing is applied twice out of order.
    const updates = await this.kv.watch(this.seen > 0 ? { resumeFromRevision: this.seen + 1 } : {});
    this.watch = updates;
    this.loop = (async () => {
      try {
        for await (const entry of updates) this.apply(entry);
      } catch (err) {
        this.logger.error({ err }, `${this.what}: watch failed`);
      }
      if (!this.stopped) this.reopen();
    })();
  }

  private reopen(): void {
    this.logger.warn({ seen: this.seen }, `${this.what}: watch ended; watching again`);
    setTimeout(() => {
      if (this.stopped) return;
      this.open().catch((err: unknown) => {
        this.logger.error({ err }, `${this.what}: watch could not be reopened`);
        this.reopen();
      });
    }, REWATCH_DELAY_MS);
  }

  private apply(entry: KvEntry): void {
    if (entry.revision <= this.seen) return;
    this.take(entry);
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
