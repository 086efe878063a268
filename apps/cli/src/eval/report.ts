import type { EvalReport } from "./run-eval.js";

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** The eval report as a person reads it. */
export function formatReport(r: EvalReport): string {
  const lines = [
    `Speaker evaluation, model ${r.model}`,
    `  ${r.speakers} speakers, ${r.files} files: ${r.enrolled_files} enrolled (${r.enroll_by === "first-n" ? `first ${r.enroll_per_speaker}` : `by ${r.enroll_by}, up to ${r.enroll_per_speaker}`} per speaker), ${r.test_files} identified`,
    `  Identification accuracy (rank 1):        ${pct(r.identification_accuracy)}`,
    `  Identified as the right speaker at the calibrated decision: ${pct(r.identification_accuracy_at_threshold)}`,
    `  Equal error rate, clip vs voiceprint:     ${pct(r.eer)} (at cosine ${r.eer_threshold.toFixed(3)})`,
    `  Calibration (${r.calibration.status}, ${r.calibration.scale}, target FAR ${pct(r.calibration.target_far)}): threshold ${r.calibration.threshold.toFixed(3)}; by speech duration ${Object.entries(
      r.calibration.thresholds_by_bin,
    )
      .map(([b, t]) => `${b} ${t.toFixed(3)}`)
      .join(", ")}`,
    `    from ${r.calibration.genuine_trials} genuine and ${r.calibration.impostor_trials} stranger trials of the household's own samples (${r.calibration.augmented_samples} augmented)`,
    `  Decision-score EER over the held-out trials: ${pct(r.decision_eer)}`,
    "  Open set, each speaker held out as a stranger, calibrated without them:",
    `    false accepts ${pct(r.open_set_far)} of ${r.stranger_trials} stranger trials`,
    `    false rejects ${pct(r.open_set_frr)} of ${r.enrolled_trials} enrolled trials`,
    `  Enrollment samples rejected by the quality gates: ${r.enrollment_samples_rejected}`,
  ];
  lines.push("  By speech duration after VAD:");
  for (const b of r.by_duration) {
    lines.push(
      `    ${b.bin.padEnd(6)} ${String(b.test_files).padStart(4)} files  rank-1 ${pct(b.identification_accuracy)}  FAR ${pct(b.open_set_far)}  FRR ${pct(b.open_set_frr)}`,
    );
  }
  if (r.plots) lines.push(`  Plots: ${r.plots.join(", ")}`);
  if (r.speakers_not_enrolled.length > 0) {
    lines.push(`  Not enrolled (every sample rejected): ${r.speakers_not_enrolled.join(", ")}`);
  }
  lines.push(`  Took ${r.duration_s} s`);
  return lines.join("\n");
}
