import type { EvalReport } from "./run-eval.js";

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** The eval report as a person reads it. */
export function formatReport(r: EvalReport): string {
  const lines = [
    `Speaker evaluation, model ${r.model}`,
    `  ${r.speakers} speakers, ${r.files} files: ${r.enrolled_files} enrolled (first ${r.enroll_per_speaker} per speaker), ${r.test_files} identified`,
    `  Identification accuracy (rank 1):        ${pct(r.identification_accuracy)}`,
    `  Identified as the right speaker at the default decision: ${pct(r.identification_accuracy_at_threshold)}`,
    `  Equal error rate, clip vs voiceprint:     ${pct(r.eer)} (at cosine ${r.eer_threshold.toFixed(3)})`,
    `  Open set, each speaker held out as a stranger (threshold ${r.threshold}, margin ${r.margin}):`,
    `    false accepts ${pct(r.open_set_far)} of ${r.stranger_trials} stranger trials`,
    `    false rejects ${pct(r.open_set_frr)} of ${r.enrolled_trials} enrolled trials`,
    `  Enrollment samples rejected by the quality gates: ${r.enrollment_samples_rejected}`,
  ];
  if (r.speakers_not_enrolled.length > 0) {
    lines.push(`  Not enrolled (every sample rejected): ${r.speakers_not_enrolled.join(", ")}`);
  }
  lines.push(`  Took ${r.duration_s} s`);
  return lines.join("\n");
}
