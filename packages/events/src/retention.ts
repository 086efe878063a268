/**
 * How much captured audio the system keeps (and so how far back a replay can reach): the AUDIO stream's
 * limits, from `SPEAKERS_AUDIO_MAX_AGE` (e.g. `30d`, `12h`) and `SPEAKERS_AUDIO_MAX_BYTES` (e.g. `10GiB`,
 * `500MB`). Whatever provisions the streams passes the result to `defaultTopology`.
 */
import { SpeakersError } from "./errors.js";

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1e3,
  m: 60e3,
  h: 3600e3,
  d: 86_400e3,
  w: 604_800e3,
};
const BYTE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** `30d`, `12h`, `90m`, `45s`, `500ms`, `2w`. */
export function parseDuration(text: string, name = "duration"): number {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d|w)\s*$/i.exec(text);
  const unit = m?.[2]?.toLowerCase();
  if (m === null || unit === undefined || Number(m[1]) <= 0) {
    throw new SpeakersError("INVALID_REQUEST", `${name} "${text}" is not a duration.`, {
      hint: "Write a positive number and a unit: 30d, 12h, 90m, 45s, 2w.",
    });
  }
  return Math.round(Number(m[1]) * (DURATION_UNITS[unit] ?? 1));
}

/** `10GiB`, `500MB`, `1073741824`; -1 means no limit. */
export function parseBytes(text: string, name = "size"): number {
  if (text.trim() === "-1") return -1;
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgt]i?b|b)?\s*$/i.exec(text);
  const factor = BYTE_UNITS[(m?.[2] ?? "").toLowerCase()];
  if (m === null || factor === undefined || Number(m[1]) <= 0) {
    throw new SpeakersError("INVALID_REQUEST", `${name} "${text}" is not a size.`, {
      hint: "Write a positive number with an optional unit: 10GiB, 500MB, 1073741824 (bytes), or -1 for no limit.",
    });
  }
  return Math.round(Number(m[1]) * factor);
}

/** The AUDIO retention overrides for `defaultTopology`; unset variables keep ADR 0001's defaults. */
export function audioRetentionFromEnv(env: Record<string, string | undefined> = process.env): {
  audioMaxAgeMs?: number;
  audioMaxBytes?: number;
} {
  const age = env.SPEAKERS_AUDIO_MAX_AGE;
  const bytes = env.SPEAKERS_AUDIO_MAX_BYTES;
  return {
    ...(age ? { audioMaxAgeMs: parseDuration(age, "SPEAKERS_AUDIO_MAX_AGE") } : {}),
    ...(bytes ? { audioMaxBytes: parseBytes(bytes, "SPEAKERS_AUDIO_MAX_BYTES") } : {}),
  };
}
