/**
 * `pnpm bench:e2e [--json] [--audio <dir>] [--steady-rate 2] [--steady-count 30] [--ramp 1,2,4,8,12,16,24,32]
 *  [--step-seconds 8] [--saturation-count 80] [--max-seconds 300]`
 * A throwaway stack on loopback; every speaker enrolled from 3 files; then three phases, bounded in clips and
 * time: a steady rate, a ramp of rising rates (stopping at the first that does not keep up), and a burst
 * sent as fast as capture accepts. Prints a table (or JSON) of capture -> speaker.identified latency.
 */
import { readFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { createLogger, request } from "@speakers/bus";
import { decodeJson, ModelsReply, SERVICES } from "@speakers/events";
import { registryClient } from "@speakers/registry-client";
import { defaultAudioDir, speakerFolders } from "./audio-folders.js";
import { type BenchClip, createBench, keepsUp, type PhaseResult } from "./bench-e2e.js";
import { createStackLogger } from "./logging.js";
import { mediaTypeOf } from "./post-clip.js";
import { ms, round } from "./stats.js";
import { reportFailure, throwawayStack } from "./throwaway.js";

/** Bus + registry overhead over model time at low load that the product aims for (issue 13). */
const OVERHEAD_GOAL_MS = 5;
const ENROLL = 3;
const { values } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    audio: { type: "string" },
    "steady-rate": { type: "string", default: "2" },
    "steady-count": { type: "string", default: "30" },
    ramp: { type: "string", default: "1,2,4,8,12,16,24,32" },
    "step-seconds": { type: "string", default: "8" },
    "saturation-count": { type: "string", default: "80" },
    "max-seconds": { type: "string", default: "300" },
  },
});
const num = (name: keyof typeof values) => {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`--${name} must be a positive number\n`);
    process.exit(2);
  }
  return n;
};
const steadyRate = num("steady-rate");
const steadyCount = Math.round(num("steady-count"));
const ramp = String(values.ramp)
  .split(",")
  .map(Number)
  .filter((r) => r > 0);
const stepSeconds = num("step-seconds");
const saturationCount = Math.round(num("saturation-count"));
const deadline = Date.now() + num("max-seconds") * 1000;

const say = (line: string) => {
  // With --json, stdout is the JSON alone; progress goes to stderr.
  (values.json ? process.stderr : process.stdout).write(`${line}\n`);
};
const audioDir = resolve(values.audio ?? defaultAudioDir());
const folders = speakerFolders(audioDir);
const clips: BenchClip[] = folders.flatMap((f) =>
  f.files
    .slice(ENROLL)
    .map((file) => ({ bytes: new Uint8Array(readFileSync(file)), contentType: mediaTypeOf(file) })),
);
if (clips.length === 0) {
  process.stderr.write(
    `no clips in ${audioDir} (expected <dir>/<speaker>/*.flac with more than ${ENROLL} files)\n`,
  );
  process.exit(2);
}

// With --json, stdout is the report alone: the stack's warnings (the worker's model fallback) go to stderr.
const logger = values.json
  ? createLogger("bench", { level: process.env.LOG_LEVEL ?? "warn", destination: process.stderr })
  : createStackLogger("bench", { level: "warn" });
const { stack, dispose } = throwawayStack(logger);
let code = 0;
try {
  const urls = await stack.start();
  say(
    `stack up (capture ${urls.capture}); enrolling ${folders.length} speakers from ${ENROLL} files each ...`,
  );
  const registry = registryClient(stack.bus);
  for (const f of folders) await registry.enrollFiles(f.speaker, f.files.slice(0, ENROLL));
  const bench = await createBench(stack.bus, urls.capture, clips);
  try {
    say("warm-up ...");
    await bench.run({ name: "warm-up", rate: 4, count: 8 });

    say(`steady: ${steadyCount} clips at ${steadyRate}/s ...`);
    const steady = await bench.run({ name: `steady ${steadyRate}/s`, rate: steadyRate, count: steadyCount });

    const steps: Array<PhaseResult & { keepsUp: boolean }> = [];
    for (const rate of ramp) {
      if (Date.now() > deadline) break;
      say(`ramp: ${rate}/s ...`);
      const step = await bench.run({
        name: `ramp ${rate}/s`,
        rate,
        count: Math.max(10, Math.round(rate * stepSeconds)),
      });
      const ok = keepsUp(step, steps[0] ?? step);
      steps.push({ ...step, keepsUp: ok });
      if (!ok) break;
    }
    const sustained = steps.filter((s) => s.keepsUp).at(-1)?.offeredRate ?? null;

    let saturation: PhaseResult | undefined;
    if (Date.now() < deadline) {
      say(`saturation: ${saturationCount} clips as fast as capture accepts ...`);
      saturation = await bench.run({
        name: "saturation",
        rate: Number.POSITIVE_INFINITY,
        count: saturationCount,
      });
    }

    const report = {
      machine: { cpus: availableParallelism(), cpu: cpus()[0]?.model ?? "?", node: process.version },
      model: await workerModel(stack.bus),
      clipsAvailable: clips.length,
      phases: [steady, ...steps, ...(saturation ? [saturation] : [])].map(toJson),
      rampKeepsUp: Object.fromEntries(steps.map((s) => [String(s.offeredRate), s.keepsUp])),
      sustainedEventsPerSecond: sustained,
      saturationEventsPerSecond: saturation ? round(saturation.achievedRate, 2) : null,
    };
    if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else printTable(report.phases, steps, sustained, saturation, report.machine, report.model);
  } finally {
    await bench.stop();
  }
} catch (err) {
  code = reportFailure("bench", err);
} finally {
  await dispose();
}
process.exit(code);

/** The worker's loaded model and its threads, so a figure is never quoted without what produced it. */
async function workerModel(bus: typeof stack.bus): Promise<string | null> {
  try {
    const reply = await request(bus, SERVICES.embedding.endpoints.models, "{}", { timeoutMs: 5_000 });
    const m = decodeJson(ModelsReply, reply.data);
    return `${m.active.id}@${m.active.revision} on ${m.device}, ${m.threads} threads`;
  } catch {
    return null;
  }
}

function toJson(p: PhaseResult) {
  const pct = (x: PhaseResult["totalMs"]) => ({ p50: round(x.p50), p95: round(x.p95), p99: round(x.p99) });
  return {
    name: p.name,
    offeredRate: p.offeredRate,
    clips: p.clips,
    lost: p.lost,
    refused: p.refused,
    achievedRate: round(p.achievedRate, 2),
    totalMs: pct(p.totalMs),
    modelMs: pct(p.modelMs),
    overheadMs: pct(p.overheadMs),
    registryMs: pct(p.registryMs),
    workerMs: pct(p.workerMs),
    captureMs: pct(p.captureMs),
    uploadMs: pct(p.uploadMs),
    wallS: round(p.wallMs / 1000),
  };
}

function printTable(
  phases: ReturnType<typeof toJson>[],
  steps: Array<{ offeredRate: number | null; keepsUp: boolean }>,
  sustained: number | null,
  saturation: PhaseResult | undefined,
  machine: { cpus: number; cpu: string; node: string },
  model: string | null,
): void {
  const out = (l = "") => process.stdout.write(`${l}\n`);
  const t = (x: { p50: number | null; p95: number | null; p99: number | null }) =>
    [x.p50, x.p95, x.p99].map((v) => ms(v ?? undefined).padStart(7)).join("");
  out();
  out(
    "capture (HTTP 202) -> speaker.identified, ms. model = the worker's computeMs for the clip; other = the rest:",
  );
  out("worker = 202 -> embedding.computed less model (AUDIO queueing, fetch, decoding, quality, publish);");
  out(
    "registry = embedding.computed -> speaker.identified (consume, match, publish with ack); other = worker + registry;",
  );
  out(
    "upload = HTTP send -> 202 (capture publishing to JetStream with ack). ev/s = identifications per second.",
  );
  out(`${machine.cpus} CPUs (${machine.cpu}), node ${machine.node}, model ${model ?? "?"}`);
  out();
  out(
    `${"phase".padEnd(16)}${"clips".padStart(6)}${"lost".padStart(5)}${"ev/s".padStart(7)}` +
      `${"total p50".padStart(11)}${"p95".padStart(7)}${"p99".padStart(7)}` +
      `${"model p50".padStart(11)}${"p95".padStart(7)}${"p99".padStart(7)}` +
      `${"other p50".padStart(11)}${"p95".padStart(7)}${"p99".padStart(7)}` +
      `${"worker p50".padStart(12)}${"p95".padStart(7)}${"registry p50".padStart(14)}${"p95".padStart(7)}` +
      `${"upload p50".padStart(12)}  keeps up`,
  );
  for (const p of phases) {
    const step = steps.find((s) => p.name === `ramp ${s.offeredRate}/s`);
    out(
      `${p.name.padEnd(16)}${String(p.clips).padStart(6)}${String(p.lost).padStart(5)}${String(p.achievedRate ?? "-").padStart(7)}` +
        `    ${t(p.totalMs)}    ${t(p.modelMs)}    ${t(p.overheadMs)}` +
        `${ms(p.workerMs.p50 ?? undefined).padStart(12)}${ms(p.workerMs.p95 ?? undefined).padStart(7)}` +
        `${ms(p.registryMs.p50 ?? undefined).padStart(14)}${ms(p.registryMs.p95 ?? undefined).padStart(7)}` +
        `${ms(p.uploadMs.p50 ?? undefined).padStart(12)}  ${step ? (step.keepsUp ? "yes" : "no") : ""}`,
    );
  }
  out();
  out(
    `sustained: ${sustained === null ? "none of the ramp's rates" : `${sustained} events/s`} before latency climbs` +
      (saturation ? `; saturation throughput ${saturation.achievedRate.toFixed(2)} events/s` : ""),
  );
  const low = phases.find((p) => p.offeredRate === 2);
  if (low) {
    const p99 = low.overheadMs.p99;
    out(
      `overhead over model time at 2 events/s: p50 ${ms(low.overheadMs.p50 ?? undefined)}, p99 ${ms(p99 ?? undefined)} ms ` +
        `(goal <= ${OVERHEAD_GOAL_MS} ms${p99 !== null && p99 <= OVERHEAD_GOAL_MS ? ", met" : ", not met"}); ` +
        `of it the worker besides its model p50 ${ms(low.workerMs.p50 ?? undefined)} / p99 ${ms(low.workerMs.p99 ?? undefined)} ms ` +
        `and the registry hop p50 ${ms(low.registryMs.p50 ?? undefined)} / p99 ${ms(low.registryMs.p99 ?? undefined)} ms; ` +
        `upload (not in the overhead) p50 ${ms(low.uploadMs.p50 ?? undefined)} ms`,
    );
  }
}
