/**
 * The one set of audio limits (issue 9 item 7). The worker refuses what falls outside them, so capture refuses
 * the same at the edge, with the same codes, before anything is stored. Python reads them from
 * `schemas/topology.json` (`audioLimits`); both sides may be configured tighter, never from two sources.
 */
export const AUDIO_LIMITS = {
  /** Shorter clips cannot be recognised: AUDIO_TOO_SHORT. */
  minDurationMs: 1_000,
  /** Longer clips are refused: AUDIO_TOO_LONG. Longer recordings are split by the sender. */
  maxDurationMs: 60_000,
  /** Bigger uploads are refused before they are read: AUDIO_TOO_LONG. */
  maxBytes: 64 * 1024 * 1024,
  /** Below this level (RMS after removing any DC offset) a clip is AUDIO_SILENT. */
  silenceDbfs: -60,
  /** Sample rates outside this range are a wrong header, not real audio: AUDIO_UNSUPPORTED_FORMAT. */
  minSampleRate: 1_000,
  maxSampleRate: 384_000,
  maxChannels: 8,
} as const;

export type AudioLimitsContract = typeof AUDIO_LIMITS;
