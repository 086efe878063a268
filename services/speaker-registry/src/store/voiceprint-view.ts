/**
 * The `voiceprints` bucket in memory, per model key, kept current by one KV watch (initial values, then every
 * put, delete and purge, this replica's and the others'). Identification scores against it: listing the
 * bucket on every embedding took a throwaway consumer plus one get per key, and on nats-server 2.11 with a
 * cluster node down that consumer may land on the dead node and time out (nats-server#7165).
 *
 * Reads stay consistent with writes through revisions: a writer waits until the watch has applied the
 * revision it wrote, and `sync()` waits until the watch has applied the bucket's last revision, so a request
 * answered by one replica sees what another replica wrote before it replied.
 *
 * The bucket also holds erasure fences (`erased.<speakerId>`, ADR 0004): a fenced speaker is never scored,
 * even if a voiceprint of theirs reappears (an enrollment that raced the erasure).
 */
import type { KV, KvEntry } from "@nats-io/kv";
import type { Logger } from "@speakers/bus";
import { type ModelRef, modelKey } from "@speakers/events";
import { ERASED_KEY_PREFIX } from "./keys.js";
import type { VoiceprintRecord } from "./records.js";

/** How long a read waits for the watch to catch up before it scores against what the view holds. */
const SYNC_TIMEOUT_MS = 2_000;
/** A watch that ended on its own (its consumer lost) is opened again after this pause. */
const REWATCH_DELAY_MS = 500;

interface Waiter {
  revision: number;
  resolve: (seen: boolean) => void;
}

export class VoiceprintView {
  /** model key -> KV key -> voiceprint */
  private readonly byModel = new Map<string, Map<string, VoiceprintRecord>>();
  /** KV key -> model key: a delete or purge carries no value to say which model it was. */
  private readonly modelOfKey = new Map<string, string>();
  /** Speakers behind an erasure fence. */
  private readonly erased = new Set<string>();
  private waiters: Waiter[] = [];
  private seen = 0;
  private stopped = false;
  private watch: { stop(): void } | undefined;
  private loop: Promise<void> = Promise.resolve();

  private constructor(
    private readonly kv: KV,
    private readonly logger: Logger,
  ) {}

  /** Opens the watch and returns once the view holds every voiceprint stored before the call. */
  static async start(kv: KV, logger: Logger): Promise<VoiceprintView> {
    const view = new VoiceprintView(kv, logger);
    await view.open();
    await view.sync();
    return view;
  }

  /** The last revision of the bucket this view has applied. */
  revision(): number {
    return this.seen;
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
    if (!seen && !this.stopped) this.logger.warn({ revision, seen: this.seen }, "voiceprint view behind");
    return seen;
  }

  /**
   * Waits until the view has applied everything the bucket held when called (one stream info request, no
   * consumer). On a timeout or error it logs and returns: a view a moment behind beats failing the request.
   */
  async sync(timeoutMs = SYNC_TIMEOUT_MS): Promise<void> {
    try {
      const last = (await withTimeout(this.kv.status(), timeoutMs)).streamInfo.state.last_seq;
      await this.waitFor(last, timeoutMs);
    } catch (err) {
      this.logger.warn({ err, seen: this.seen }, "voiceprint view could not check the bucket");
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
        this.logger.error({ err }, "voiceprint watch failed");
      }
      if (!this.stopped) this.reopen();
    })();
  }

  private reopen(): void {
    this.logger.warn({ seen: this.seen }, "voiceprint watch ended; watching again");
    setTimeout(() => {
      if (this.stopped) return;
      this.open().catch((err: unknown) => {
        this.logger.error({ err }, "voiceprint watch could not be reopened");
        this.reopen();
      });
    }, REWATCH_DELAY_MS);
  }

  private apply(entry: KvEntry): void {
    if (entry.revision <= this.seen) return;
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
    this.seen = entry.revision;
    const ready = this.waiters.filter((w) => w.revision <= this.seen);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.revision > this.seen);
    for (const w of ready) w.resolve(true);
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

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
