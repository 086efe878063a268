/**
 * `speakers replay` (re-embed the audio history with another model, rebuild its voiceprints, report how
 * identification would change) and `speakers model use|show` (the explicit switch of the live model).
 */

import { Kvm } from "@nats-io/kv";
import { ensureWorker } from "@speakers/embedding-client";
import { type CalibrationReply, KV_BUCKETS, modelKey, resolveModel } from "@speakers/events";
import { registryClient } from "@speakers/registry-client";
import { createReplay, parseSince, type ReplayReport, type ReplayRun } from "@speakers/replay";
import { readLiveModel, workerCommandFor } from "@speakers/speaker-registry";
import { type Command, InvalidArgumentError } from "commander";
import type { EmbeddedStack } from "../embedded-stack.js";
import type { Output } from "../output.js";
import { phasedProgress } from "../progress.js";
import { formatCalibration } from "./calibrate.js";

export type WithStack = <A extends unknown[]>(
  fn: (stack: EmbeddedStack, ...args: A) => Promise<unknown>,
) => (...args: A) => Promise<void>;

export interface ReplayCommandOptions {
  model: string;
  since?: string;
  restart?: boolean;
  batch?: string;
  /** Stop after this many audio events (resume later); mostly for trying it out. */
  limit?: string;
  json?: boolean;
}

export function registerReplayCommands(
  program: Command,
  out: Output,
  withStack: WithStack,
  env: NodeJS.ProcessEnv,
): void {
  program
    .command("replay")
    .description(
      "re-embed the captured audio history with another model, rebuild its voiceprints from the enrollment audio, and report how identification would change (the live model is untouched; resumable)",
    )
    .requiredOption("--model <model>", "ecapa, ge2e or a model key")
    .option(
      "--since <time|sequence>",
      "start at this time (ISO 8601) or AUDIO stream sequence (default: all kept)",
    )
    .option("--restart", "forget an unfinished replay of this model and start again")
    .option("--batch <n>", "clips per worker request", positiveInt, "8")
    .option("--limit <n>", "stop after this many audio events; run again to resume", positiveInt)
    .option("--json", "print the run and its report as JSON")
    .action(withStack((stack, o: ReplayCommandOptions) => replayCommand(stack, out, o, env)));

  const model = program.command("model").description("the live model: what identification uses");
  model
    .command("show")
    .description("print the live model and its calibrated decision rule")
    .option("--json", "print it as JSON")
    .action(
      withStack(async (stack, o: { json?: boolean }) => {
        const state = await new Kvm(stack.bus.js).open(KV_BUCKETS.registryState.name);
        const live = await readLiveModel(state);
        const calibration =
          live === undefined ? undefined : await registryClient(stack.bus).calibration(live);
        if (o.json) out.out(JSON.stringify(live === undefined ? null : { ...live, calibration }));
        else
          out.out(
            live
              ? `${modelKey(live)}\n${formatCalibration(calibration as CalibrationReply)}`
              : "No live model yet.",
          );
      }),
    );
  model
    .command("use")
    .description("make a model live (needs its voiceprints, from `speakers replay`, and a worker of it)")
    .argument("<model>", "ecapa, ge2e or a model key")
    .option("--json", "print the result as JSON")
    .action(
      withStack((stack, name: string, o: { json?: boolean }) => modelUseCommand(stack, out, name, o, env)),
    );
}

export async function replayCommand(
  stack: EmbeddedStack,
  out: Output,
  o: ReplayCommandOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ReplayRun> {
  const model = resolveModel(o.model);
  const since = o.since === undefined ? undefined : parseSince(o.since);
  // A worker of the replayed model beside the live one: it answers only its model's subjects.
  const worker = await ensureWorker({
    nc: stack.bus.nc,
    model,
    role: "replay",
    env,
    ...(stack.workerServers === undefined ? {} : { servers: stack.workerServers }),
  });
  const progress = phasedProgress();
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once("SIGINT", onSigint);
  try {
    const run = await createReplay({
      bus: stack.bus,
      model,
      ...(o.batch === undefined ? {} : { batchSize: Number(o.batch) }),
    }).run({
      ...(since === undefined ? {} : { since }),
      ...(o.restart ? { restart: true } : {}),
      ...(o.limit === undefined ? {} : { stopAfter: Number(o.limit) }),
      signal: abort.signal,
      onProgress: ({ phase, done, total }) => progress.update(phase, done, total),
    });
    progress.stop();
    out.out(o.json ? JSON.stringify(run) : formatRun(run));
    return run;
  } finally {
    progress.stop();
    process.removeListener("SIGINT", onSigint);
    await worker.stop();
  }
}

export async function modelUseCommand(
  stack: EmbeddedStack,
  out: Output,
  name: string,
  o: { json?: boolean },
  env: NodeJS.ProcessEnv = process.env,
) {
  // The embedded stack starts the live model's worker itself next time; here it proves the model loads.
  const worker = stack.embedded
    ? await ensureWorker({
        nc: stack.bus.nc,
        model: resolveModel(name),
        role: "replay",
        env,
        ...(stack.workerServers === undefined ? {} : { servers: stack.workerServers }),
      })
    : undefined;
  try {
    // The registry makes the switch (it owns registry-state): it checks voiceprints and a worker of the model.
    const result = await registryClient(stack.bus).useModel(name);
    if (o.json) {
      out.out(JSON.stringify({ from: result.from ?? null, to: result.to, voiceprints: result.voiceprints }));
      return;
    }
    out.out(
      `Live model: ${modelKey(result.to)} (was ${result.from ? modelKey(result.from) : "none"}), ${result.voiceprints} voiceprint(s).`,
    );
    if (!stack.embedded) {
      out.out(`The live worker must run this model (it embeds live audio): ${workerCommandFor(result.to)}`);
    }
  } finally {
    await worker?.stop();
  }
}

function formatRun(run: ReplayRun): string {
  const lines = [
    `Replay of ${modelKey(run.model)} from ${run.from}: ${run.embedded} embedded, ${run.failed} failed, ${run.skipped} skipped this run.`,
  ];
  if (run.interrupted) {
    lines.push("Interrupted: run the same command again to resume.");
    return lines.join("\n");
  }
  for (const s of run.voiceprints?.speakers ?? []) {
    lines.push(
      `  voiceprint ${s.voiceprint ? "built" : "MISSING"} for ${s.name}: ${s.embedded} sample(s) embedded${s.failed ? `, ${s.failed} failed (${(s.errors ?? []).join(", ")})` : ""}`,
    );
  }
  if (run.report) lines.push(formatReport(run.report));
  lines.push(`Switch when satisfied: speakers model use ${modelKey(run.model)}`);
  return lines.join("\n");
}

export function formatReport(r: ReplayReport): string {
  const pct = (x: number | null) => (x === null ? "   -  " : `${(x * 100).toFixed(1).padStart(5)}%`);
  const num = (x: number | null) => (x === null ? "    -  " : `${x >= 0 ? "+" : ""}${x.toFixed(3)}`);
  const lines = [
    `Compared ${r.compared} of ${r.replayed} replayed clip(s) with the live decisions (${r.liveModels.join(", ") || "none"}); threshold ${r.threshold}, margin ${r.margin}.`,
    `${"speaker".padEnd(24)} ${"clips".padStart(5)}  agree   score shift  margin shift  ->unknown  ->other  ->known`,
  ];
  const row = (name: string, x: ReplayReport["overall"]) =>
    `${name.padEnd(24)} ${String(x.events).padStart(5)}  ${pct(x.agreement)}  ${num(x.meanScoreShift).padStart(11)}  ${num(x.meanMarginShift).padStart(12)}  ${String(x.becameUnknown).padStart(8)}  ${String(x.becameOther).padStart(7)}  ${String(x.becameKnown).padStart(7)}`;
  for (const x of r.rows) lines.push(row(x.name, x));
  lines.push(row("overall", r.overall));
  return lines.join("\n");
}

function positiveInt(value: string): string {
  if (!/^[1-9][0-9]*$/.test(value)) throw new InvalidArgumentError("must be a whole number, at least 1");
  return value;
}
