/**
 * How much speech an enrollment needs. A sample under 2 s of speech is shorter than the crops ECAPA was trained
 * on (2-3 s) and barely longer than one GE2E window (1.6 s), so its embedding scatters; 10 s over at least three
 * samples is the usual enrollment guidance for both (several sessions average out one recording's channel).
 */
import { SpeakersError } from "@speakers/events";

export interface EnrollmentPolicy {
  readonly minSampleSpeechMs: number;
  readonly minTotalSpeechMs: number;
  readonly minSamples: number;
}

export const DEFAULT_ENROLLMENT_POLICY: EnrollmentPolicy = {
  minSampleSpeechMs: 2_000,
  minTotalSpeechMs: 10_000,
  minSamples: 3,
};

const ENV_NAMES = {
  minSampleSpeechMs: "SPEAKERS_ENROLL_MIN_SAMPLE_MS",
  minTotalSpeechMs: "SPEAKERS_ENROLL_MIN_TOTAL_MS",
  minSamples: "SPEAKERS_ENROLL_MIN_SAMPLES",
} as const;

export function enrollmentPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): EnrollmentPolicy {
  const policy: Record<keyof EnrollmentPolicy, number> = { ...DEFAULT_ENROLLMENT_POLICY };
  for (const [field, name] of Object.entries(ENV_NAMES) as [keyof EnrollmentPolicy, string][]) {
    const raw = env[name];
    if (raw === undefined || raw === "") continue;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) {
      throw new SpeakersError("INVALID_REQUEST", `${name} must be a non-negative integer.`, {
        details: { value: raw },
      });
    }
    policy[field] = value;
  }
  return policy;
}
