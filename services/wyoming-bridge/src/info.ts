import type { WyomingEvent } from "./wire.js";

export const PROGRAM_NAME = "speakers";
const VERSION = "0.1.0";
const ATTRIBUTION = { name: "speakers", url: "" };

/**
 * The `info` answer: one ASR program named for this project, its languages the upstream's (or the configured
 * ones when speaker-only). Home Assistant offers an STT entity per program model.
 */
export function bridgeInfo(languages: string[], hasUpstream: boolean): WyomingEvent {
  const model = {
    name: hasUpstream ? "speakers-proxy" : "speakers-speaker-only",
    attribution: ATTRIBUTION,
    installed: true,
    description: hasUpstream
      ? "Speech-to-text by the upstream Wyoming service, with the speaker identified before the answer"
      : "Speaker identification only; the transcript is empty",
    version: VERSION,
    languages,
  };
  return {
    type: "info",
    data: {
      asr: [
        {
          name: PROGRAM_NAME,
          attribution: ATTRIBUTION,
          installed: true,
          description: "Speaker recognition for Home Assistant Assist",
          version: VERSION,
          models: [model],
          supports_transcript_streaming: false,
        },
      ],
      tts: [],
      handle: [],
      intent: [],
      wake: [],
      mic: [],
      snd: [],
    },
  };
}
