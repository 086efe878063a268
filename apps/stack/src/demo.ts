import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { Bus } from "@speakers/bus";
import { registryClient } from "@speakers/registry-client";
import type { SpeakerFolder } from "./audio-folders.js";
import { mediaTypeOf, postClip } from "./post-clip.js";
import { type Percentiles, percentiles } from "./stats.js";
import { traceChain } from "./trace.js";

export interface DemoOptions {
  bus: Bus;
  captureUrl: string;
  speakers: readonly SpeakerFolder[];
  /** Files per speaker used for enrollment (the first N, sorted); the rest are streamed. */
  enroll: number;
  /** The last K folders are never enrolled: every file of theirs is streamed and should come back unknown. */
  strangers?: number;
  /** Per clip: how long to wait for its identification. */
  timeoutMs?: number;
  onEnrolled?: (e: EnrollOutcome) => void;
  onResult?: (r: DemoResult) => void;
}

export interface EnrollOutcome {
  speaker: string;
  files: number;
  enrolled: boolean;
  accepted: number;
  rejected: number;
  /** Why it failed, when it did. */
  error?: string;
}

export interface DemoResult {
  file: string;
  /** The folder it came from. */
  truth: string;
  /** What a perfect system would say: the speaker's name if enrolled, else "unknown". */
  expected: string;
  decision: "known" | "unknown" | "failed";
  speaker?: string;
  score?: number;
  correct: boolean;
  /**
   * Upload sent to speaker.identified received. Measured from the send, not the 202: capture publishes before
   * its 202 reaches us, so the worker can already be computing while the reply is in flight.
   */
  latencyMs: number;
  /** The worker's model time for this clip. */
  computeMs?: number;
}

export interface DemoSummary {
  enrolled: number;
  clips: number;
  correct: number;
  /** Said a name, and the wrong one: the costly error. */
  wrong: number;
  unknown: number;
  failed: number;
  accuracy: number;
  unknownRate: number;
  latencyMs: Percentiles;
  computeMs: Percentiles;
  wallMs: number;
}

/**
 * Enrolls each folder's speaker from its first files, then sends every other file through HTTP capture like a
 * microphone would, one at a time in round-robin over speakers (a house, not one long monologue), and scores
 * each identification the chain publishes against the folder it came from.
 */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const started = performance.now();
  // Enrollment goes the way `speakers enroll` sends it (clips through the Object Store), so the demo shows that path.
  const registry = registryClient(options.bus);
  const enrolledNames = new Set<string>();
  const cut = options.speakers.length - Math.min(options.strangers ?? 0, options.speakers.length);
  const members = options.speakers.slice(0, cut);
  const strangers = options.speakers.slice(cut);
  for (const folder of members) {
    const files = folder.files.slice(0, options.enroll);
    const outcome: EnrollOutcome = {
      speaker: folder.speaker,
      files: files.length,
      enrolled: false,
      accepted: 0,
      rejected: 0,
    };
    try {
      const reply = await registry.enrollFiles(folder.speaker, files);
      outcome.enrolled = reply.result.outcome === "enrolled";
      outcome.accepted = reply.result.samplesAccepted;
      outcome.rejected = reply.result.samplesRejected;
      if (reply.result.error) outcome.error = `${reply.result.error.code}: ${reply.result.error.message}`;
    } catch (err) {
      outcome.error = err instanceof Error ? err.message : String(err);
    }
    if (outcome.enrolled) enrolledNames.add(folder.speaker);
    options.onEnrolled?.(outcome);
  }

  const queue = roundRobin([
    ...members.map((s) => s.files.slice(options.enroll).map((file) => ({ file, truth: s.speaker }))),
    ...strangers.map((s) => s.files.map((file) => ({ file, truth: s.speaker }))),
  ]);
  const tracer = await traceChain(options.bus);
  const results: DemoResult[] = [];
  try {
    for (const clip of queue) {
      const posted = await postClip(options.captureUrl, new Uint8Array(readFileSync(clip.file)), {
        device: "demo",
        room: "demo",
        contentType: mediaTypeOf(clip.file),
      });
      const trace = await tracer.wait(posted.id, options.timeoutMs ?? 60_000);
      const at = trace.identifiedAt ?? trace.failedAt ?? performance.now();
      const expected = enrolledNames.has(clip.truth) ? clip.truth : "unknown";
      const id = trace.identified;
      const said = id ? (id.decision === "known" ? (id.speaker?.name ?? "?") : "unknown") : undefined;
      const result: DemoResult = {
        file: basename(clip.file),
        truth: clip.truth,
        expected,
        decision: id ? id.decision : "failed",
        ...(id?.speaker ? { speaker: id.speaker.name } : {}),
        ...(id ? { score: id.score } : {}),
        correct: said === expected,
        latencyMs: Math.max(0, at - posted.sentAt),
        ...(trace.computeMs === undefined ? {} : { computeMs: trace.computeMs }),
      };
      results.push(result);
      options.onResult?.(result);
    }
  } finally {
    await tracer.stop();
  }
  return summarize(enrolledNames.size, results, performance.now() - started);
}

export function summarize(enrolled: number, results: readonly DemoResult[], wallMs: number): DemoSummary {
  const clips = results.length;
  const correct = results.filter((r) => r.correct).length;
  const unknown = results.filter((r) => r.decision === "unknown").length;
  const failed = results.filter((r) => r.decision === "failed").length;
  const wrong = results.filter((r) => r.decision === "known" && !r.correct).length;
  return {
    enrolled,
    clips,
    correct,
    wrong,
    unknown,
    failed,
    accuracy: clips === 0 ? 0 : correct / clips,
    unknownRate: clips === 0 ? 0 : unknown / clips,
    latencyMs: percentiles(results.map((r) => r.latencyMs)),
    computeMs: percentiles(results.flatMap((r) => (r.computeMs === undefined ? [] : [r.computeMs]))),
    wallMs,
  };
}

function roundRobin<T>(lists: T[][]): T[] {
  const out: T[] = [];
  for (let i = 0; lists.some((l) => i < l.length); i++) {
    for (const l of lists) {
      const item = l[i];
      if (item !== undefined) out.push(item);
    }
  }
  return out;
}
