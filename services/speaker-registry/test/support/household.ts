import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";

/** The household recordings (short clips through simulated rooms and noise), one folder per speaker. */
export const HOUSEHOLD =
  process.env.SPEAKERS_HOUSEHOLD_AUDIO ??
  resolve(import.meta.dirname, "../../../../../shared/audio/household-dev");

/** A speaker's short household clips, sorted: recordings as a home makes them. */
export function householdClips(speaker: string): string[] {
  return readdirSync(join(HOUSEHOLD, speaker))
    .filter((f) => f.startsWith("b-test-"))
    .sort()
    .map((f) => join(HOUSEHOLD, speaker, f));
}
