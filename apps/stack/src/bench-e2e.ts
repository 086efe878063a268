/**
 * End-to-end latency: HTTP capture accepted (202) -> speaker.identified seen on the bus, on real clips, split
 * into the worker's model time (its computeMs for the clip) and everything else (bus hops, queueing in the
 * AUDIO stream and the worker's batch, the registry's match and publish). Sending is open-loop: a clip goes
 * out on schedule whether or not the previous one was identified, so a backlog shows up as latency.
 */
import type { Bus } from "@speakers/bus";
import { postClip } from "./post-clip.js";
import { type Percentiles, percentiles } from "./stats.js";
import { type Tracer, traceChain } from "./trace.js";

export interface BenchClip {
  bytes: Uint8Array;
  contentType: string;
}

export interface Sample {
  /** Send to HTTP 202: upload, sniffing, publish to JetStream with ack. */
  uploadMs: number;
  /** 202 to speaker.identified received. */
  totalMs: number;
  modelMs: number;
  /** totalMs - modelMs. */
  overheadMs: number;
  /** embedding.computed seen -> speaker.identified seen: the registry's consume, match and publish. */
  registryMs: number | undefined;
  /**
   * 202 (or audio.captured seen, if later) -> embedding.computed seen, less the model time: the worker's
   * fetch, decoding, quality measure and publish, and queueing behind other clips.
   */
  workerMs: number | undefined;
  /** HTTP send -> audio.captured seen on the bus: capture's receive, checks and publish (part of upload). */
  captureMs: number | undefined;
  sentAt: number;
  identifiedAt: number;
}

export interface PhaseResult {
  name: string;
  /** Offered events/s; null = as fast as capture accepts. */
  offeredRate: number | null;
  clips: number;
  /** Clips that never came back identified within the timeout, or failed. */
  lost: number;
  /** 503s from capture (backpressure) that were retried. */
  refused: number;
  /**
   * Identifications per second: (n - 1) / (last identified - first sent). Counting from the first send keeps
   * a burst's batches (many identifications landing together) from inflating it.
   */
  achievedRate: number;
  totalMs: Percentiles;
  modelMs: Percentiles;
  overheadMs: Percentiles;
  /** The part of the overhead after the worker: embedding.computed -> speaker.identified. */
  registryMs: Percentiles;
  /** The part of the overhead in the worker besides the model: see Sample.workerMs. */
  workerMs: Percentiles;
  /** HTTP send -> audio.captured on the bus (within uploadMs, not the overhead). */
  captureMs: Percentiles;
  uploadMs: Percentiles;
  wallMs: number;
}

export interface PhaseSpec {
  name: string;
  /** Events/s; Infinity sends as fast as the capture service takes them. */
  rate: number;
  count: number;
  /** Uploads in flight at once (default 8, under capture's limit of 32). */
  maxUploads?: number;
  timeoutMs?: number;
}

export interface Bench {
  run(spec: PhaseSpec): Promise<PhaseResult>;
  stop(): Promise<void>;
}

export async function createBench(bus: Bus, captureUrl: string, clips: readonly BenchClip[]): Promise<Bench> {
  if (clips.length === 0) throw new Error("no clips to send");
  const tracer = await traceChain(bus);
  let next = 0;
  return {
    run: (spec) => runPhase(tracer, captureUrl, () => clips[next++ % clips.length] as BenchClip, spec),
    stop: () => tracer.stop(),
  };
}

async function runPhase(
  tracer: Tracer,
  captureUrl: string,
  nextClip: () => BenchClip,
  spec: PhaseSpec,
): Promise<PhaseResult> {
  const samples: Sample[] = [];
  let lost = 0;
  let refused = 0;
  const maxUploads = spec.maxUploads ?? 8;
  let uploading = 0;
  const freed: Array<() => void> = [];
  const chains: Promise<void>[] = [];
  const start = performance.now();

  for (let i = 0; i < spec.count; i++) {
    if (Number.isFinite(spec.rate)) await sleepUntil(start + (i * 1000) / spec.rate);
    while (uploading >= maxUploads) await new Promise<void>((r) => freed.push(r));
    uploading++;
    const clip = nextClip();
    chains.push(
      (async () => {
        let posted: Awaited<ReturnType<typeof postClip>> | undefined;
        try {
          for (let attempt = 0; !posted; attempt++) {
            try {
              posted = await postClip(captureUrl, clip.bytes, {
                device: "bench",
                contentType: clip.contentType,
              });
            } catch (err) {
              // Capture says 503 when its upload limit or the stream is full: back off as a real client would.
              if (!/answered 503/.test(String(err)) || attempt >= 20) throw err;
              refused++;
              await new Promise((r) => setTimeout(r, 100));
            }
          }
        } finally {
          uploading--;
          freed.shift()?.();
        }
        try {
          const trace = await tracer.wait(posted.id, spec.timeoutMs ?? 120_000);
          if (!trace.identified || trace.identifiedAt === undefined) {
            lost++;
            return;
          }
          const totalMs = Math.max(0, trace.identifiedAt - posted.acceptedAt);
          const modelMs = trace.computeMs ?? 0;
          const workerFrom = Math.max(posted.acceptedAt, trace.capturedAt ?? posted.acceptedAt);
          samples.push({
            uploadMs: posted.acceptedAt - posted.sentAt,
            totalMs,
            modelMs,
            overheadMs: Math.max(0, totalMs - modelMs),
            registryMs: trace.computedAt === undefined ? undefined : trace.identifiedAt - trace.computedAt,
            workerMs:
              trace.computedAt === undefined
                ? undefined
                : Math.max(0, trace.computedAt - workerFrom - modelMs),
            captureMs: trace.capturedAt === undefined ? undefined : trace.capturedAt - posted.sentAt,
            sentAt: posted.sentAt,
            identifiedAt: trace.identifiedAt,
          });
        } catch {
          lost++;
        }
      })(),
    );
  }
  await Promise.all(chains);
  const wallMs = performance.now() - start;
  const done = samples.length;
  const span = Math.max(0, ...samples.map((s) => s.identifiedAt)) - Math.min(...samples.map((s) => s.sentAt));
  return {
    name: spec.name,
    offeredRate: Number.isFinite(spec.rate) ? spec.rate : null,
    clips: spec.count,
    lost,
    refused,
    achievedRate: done > 1 && span > 0 ? (done - 1) / (span / 1000) : 0,
    totalMs: percentiles(samples.map((s) => s.totalMs)),
    modelMs: percentiles(samples.map((s) => s.modelMs)),
    overheadMs: percentiles(samples.map((s) => s.overheadMs)),
    registryMs: percentiles(samples.flatMap((s) => (s.registryMs === undefined ? [] : [s.registryMs]))),
    workerMs: percentiles(samples.flatMap((s) => (s.workerMs === undefined ? [] : [s.workerMs]))),
    captureMs: percentiles(samples.flatMap((s) => (s.captureMs === undefined ? [] : [s.captureMs]))),
    uploadMs: percentiles(samples.map((s) => s.uploadMs)),
    wallMs,
  };
}

/**
 * A rate step "keeps up" when nothing was lost, identifications came back at >= 90% of the offered rate, and
 * its median stayed within twice the baseline's median plus 100 ms. The median, not p95: a step has tens of
 * clips, so its p95 is one clip, and on a shared two-core machine one slow clip is noise, not a backlog.
 */
export function keepsUp(step: PhaseResult, baseline: PhaseResult): boolean {
  if (step.lost > 0 || step.offeredRate === null) return false;
  const p50 = step.totalMs.p50 ?? Number.POSITIVE_INFINITY;
  const limit = 2 * (baseline.totalMs.p50 ?? 0) + 100;
  return step.achievedRate >= 0.9 * step.offeredRate && p50 <= limit;
}

function sleepUntil(t: number): Promise<void> {
  const wait = t - performance.now();
  return wait > 0 ? new Promise((r) => setTimeout(r, wait)) : Promise.resolve();
}
