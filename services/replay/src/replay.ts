/**
 * createReplay builds a replay of the captured-audio history into one model's space; nothing happens until
 * run(). A run embeds what the durable `replay-<model token>` has not delivered yet, then (once the history is
 * through) has the registry rebuild that model's voiceprints from the stored enrollment audio, then reports
 * how identification would change. The live model, its voiceprints and its decisions are never written.
 */
import { DeliverPolicy } from "@nats-io/jetstream";
import { type Bus, call, type Logger } from "@speakers/bus";
import { createEmbeddingClient, type EmbeddingClient } from "@speakers/embedding-client";
import {
  ListReply,
  ListRequest,
  type ModelRef,
  modelKey,
  RebuildVoiceprintsReply,
  RebuildVoiceprintsRequest,
  replayConsumerName,
  SERVICES,
  STREAMS,
} from "@speakers/events";
import type { PolicyOverrides } from "@speakers/scoring";
import { type CursorOptions, describeStart, openCursor } from "./cursor.js";
import { embedBatch } from "./embed.js";
import { buildReport, type ReplayReport } from "./report.js";
import type { ScanOptions } from "./scan.js";

export interface ReplayDeps {
  bus: Bus;
  model: ModelRef;
  /** Default: the embedding client bound to the model (only workers of it answer). */
  embedder?: Pick<EmbeddingClient, "extractBatch">;
  /** Clips per worker request (default 8). */
  batchSize?: number;
  /** Decision thresholds for the report (default: the model's defaults). */
  policyOverrides?: PolicyOverrides;
  logger?: Logger;
}

export interface ReplayProgress {
  phase: "embedding" | "voiceprints" | "report";
  done: number;
  total: number;
}

export interface RunOptions extends CursorOptions {
  /** Stop (cleanly, everything handled is acked) after this many audio events; the next run resumes. */
  stopAfter?: number;
  /** Aborting stops after the batch in hand, like stopAfter. */
  signal?: AbortSignal;
  onProgress?: (progress: ReplayProgress) => void;
}

export interface ReplayRun {
  model: ModelRef;
  consumer: string;
  /** Where this replay started in the AUDIO history. */
  from: string;
  /** Audio events handled by this run. */
  embedded: number;
  failed: number;
  skipped: number;
  /** Stopped before the end of the history (stopAfter or abort); run again to resume. */
  interrupted: boolean;
  voiceprints?: RebuildVoiceprintsReply;
  report?: ReplayReport;
}

export interface Replay {
  run(options?: RunOptions): Promise<ReplayRun>;
  /** The report alone, over what the replay has embedded so far. */
  report(): Promise<ReplayReport>;
}

/** Rebuilding embeds every enrollment clip of every speaker with the replayed model: minutes on a CPU. */
const REBUILD_TIMEOUT_MS = 30 * 60_000;

export function createReplay(deps: ReplayDeps): Replay {
  const { bus, model } = deps;
  const logger = (deps.logger ?? bus.logger).child({ replay: modelKey(model) });
  const embedder = deps.embedder ?? createEmbeddingClient(bus, { model });
  const batchSize = deps.batchSize ?? 8;
  const durable = replayConsumerName(model);

  const report = async (): Promise<ReplayReport> => {
    const info = await bus.jsm.consumers.info(STREAMS.AUDIO.name, durable);
    const c = info.config;
    const start: ScanOptions["start"] =
      c.deliver_policy === DeliverPolicy.StartSequence && c.opt_start_seq !== undefined
        ? { seq: c.opt_start_seq }
        : c.deliver_policy === DeliverPolicy.StartTime && c.opt_start_time !== undefined
          ? { time: c.opt_start_time }
          : undefined;
    const list = await call(bus, SERVICES.registry.endpoints.list, {
      request: ListRequest,
      payload: { limit: 1000 },
      reply: ListReply,
      timeoutMs: 30_000,
    });
    return buildReport(bus, model, {
      ...(start === undefined ? {} : { start }),
      speakers: list.speakers.map((s) => ({ id: s.id, name: s.name })),
      ...(deps.policyOverrides === undefined ? {} : { policyOverrides: deps.policyOverrides }),
    });
  };

  return {
    report,
    async run(options = {}) {
      const info = await openCursor(bus, model, options);
      const run: ReplayRun = {
        model,
        consumer: durable,
        from: describeStart(info.config),
        embedded: 0,
        failed: 0,
        skipped: 0,
        interrupted: false,
      };
      const total = info.num_pending + info.num_ack_pending;
      const progress = (phase: ReplayProgress["phase"], done: number, of: number) =>
        options.onProgress?.({ phase, done, total: of });
      logger.info({ from: run.from, pending: total }, "replay: embedding the audio history");
      const consumer = await bus.js.consumers.get(STREAMS.AUDIO.name, durable);
      let handled = 0;
      progress("embedding", 0, total);
      for (;;) {
        const limit =
          options.stopAfter === undefined ? batchSize : Math.min(batchSize, options.stopAfter - handled);
        if (limit <= 0 || options.signal?.aborted) {
          run.interrupted = true;
          break;
        }
        const msgs = [];
        for await (const m of await consumer.fetch({ max_messages: limit, expires: 2_000 })) msgs.push(m);
        if (msgs.length === 0) {
          const now = await consumer.info();
          if (now.num_pending === 0 && now.num_ack_pending === 0) break;
          continue;
        }
        try {
          const outcome = await embedBatch(bus, embedder, model, msgs);
          run.embedded += outcome.embedded;
          run.failed += outcome.failed;
          run.skipped += outcome.skipped;
        } catch (err) {
          // Hand the batch straight back, so a resumed run does not wait out the ack wait.
          for (const m of msgs) m.nak();
          throw err;
        }
        // Acked with a confirmation: a run that says it handled an event has moved the cursor past it.
        for (const m of msgs) await m.ackAck();
        handled += msgs.length;
        progress("embedding", handled, Math.max(total, handled));
      }
      if (run.interrupted) {
        logger.info({ handled }, "replay interrupted; run again to resume");
        return run;
      }
      progress("voiceprints", 0, 1);
      run.voiceprints = await call(bus, SERVICES.registry.endpoints.voiceprintsRebuild, {
        request: RebuildVoiceprintsRequest,
        payload: { model },
        reply: RebuildVoiceprintsReply,
        timeoutMs: REBUILD_TIMEOUT_MS,
      });
      progress("voiceprints", 1, 1);
      progress("report", 0, 1);
      run.report = await report();
      progress("report", 1, 1);
      return run;
    },
  };
}
