/**
 * `speakers calibrate`: recompute the household's decision rule for a model from its own enrollment samples
 * (ADR 0003); the registry also does this after every enrollment change. `speakers model show` prints it.
 */

import { type CalibrationReply, resolveModel, SpeakersError } from "@speakers/events";
import { registryClient } from "@speakers/registry-client";
import type { Command } from "commander";
import type { Output } from "../output.js";
import type { WithStack } from "./replay.js";

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

export function formatCalibration(reply: CalibrationReply): string {
  const c = reply.calibration;
  const inUse = `in use: ${reply.inUse.source} (${reply.inUse.scale}), threshold ${reply.inUse.threshold.toFixed(3)}, margin ${reply.inUse.margin.toFixed(3)}`;
  if (c === undefined) return `Not calibrated yet; ${inUse}`;
  const lines = [
    `Calibration: ${c.status}${c.note ? ` (${c.note})` : ""}, computed ${c.computedAt} after ${c.trigger}`,
    `  ${inUse}`,
    `  centring ${c.normalisation.centring?.method ?? "none"} (${c.normalisation.centring?.voices ?? 0} voices)`,
    `  normalisation ${c.normalisation.method} (top ${c.normalisation.topK} of ${c.normalisation.cohort.enrolled} enrolled, ${c.normalisation.cohort.unknown} unknown, ${c.normalisation.cohort.imported} imported)`,
    `  target FAR ${pct(c.targetFar)}; own held-out EER ${pct(c.eer)}`,
  ];
  for (const b of c.bins) {
    const range = b.maxSeconds === undefined ? `>= ${b.minSeconds} s` : `${b.minSeconds}-${b.maxSeconds} s`;
    lines.push(
      `  ${b.name.padEnd(6)} ${range.padEnd(8)} threshold ${b.threshold.toFixed(3)}  FAR ${pct(b.far)}  FRR ${pct(b.frr)}  (${b.genuineTrials} genuine, ${b.impostorTrials} stranger trials)`,
    );
  }
  lines.push(
    `  from ${c.source.speakers} speakers, ${c.source.samples} samples, ${c.source.augmentedSamples} augmented, ${c.source.adaptedSamples} adapted`,
  );
  return lines.join("\n");
}

export function registerCalibrateCommand(program: Command, out: Output, withStack: WithStack): void {
  program
    .command("calibrate")
    .description("recompute the decision rule from the household's own enrollment samples")
    .option("--model <model>", "ecapa, ge2e or a model key (default: the live model)")
    .option("--target-far <rate>", "false-accept rate to aim for, e.g. 0.01")
    .option("--normalisation <method>", "as-norm or none (kept for later calibrations)")
    .option("--centring <method>", "household or none: subtract the household's mean voice (kept)")
    .option("--json", "print the calibration as JSON")
    .action(
      withStack(
        async (
          stack,
          o: {
            model?: string;
            targetFar?: string;
            normalisation?: string;
            centring?: string;
            json?: boolean;
          },
        ) => {
          const targetFar = o.targetFar === undefined ? undefined : Number(o.targetFar);
          if (targetFar !== undefined && !(targetFar > 0 && targetFar <= 0.5)) {
            throw new SpeakersError(
              "INVALID_REQUEST",
              "--target-far must be a rate above 0 and at most 0.5.",
            );
          }
          if (o.normalisation !== undefined && o.normalisation !== "as-norm" && o.normalisation !== "none") {
            throw new SpeakersError("INVALID_REQUEST", "--normalisation must be as-norm or none.");
          }
          if (o.centring !== undefined && o.centring !== "household" && o.centring !== "none") {
            throw new SpeakersError("INVALID_REQUEST", "--centring must be household or none.");
          }
          const reply = await registryClient(stack.bus).calibrate({
            ...(o.model === undefined ? {} : { model: { ...resolveModel(o.model) } }),
            ...(targetFar === undefined ? {} : { targetFar }),
            ...(o.normalisation === "as-norm" || o.normalisation === "none"
              ? { normalisation: o.normalisation }
              : {}),
            ...(o.centring === "household" || o.centring === "none" ? { centring: o.centring } : {}),
          });
          out.out(o.json ? JSON.stringify(reply) : formatCalibration(reply));
        },
      ),
    );
}
