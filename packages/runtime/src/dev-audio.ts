import { resolve } from "node:path";

/**
 * The shared LibriSpeech dev recordings (one folder per speaker, FLAC, a manifest.csv), never copied into the
 * repo: `$SPEAKERS_DEV_AUDIO`, else `../shared/audio/dev` beside the checkout. The one place that path is
 * resolved: `pnpm demo`'s default folder and every test read it from here.
 */
export function devAudioDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.SPEAKERS_DEV_AUDIO || resolve(import.meta.dirname, "../../../../shared/audio/dev");
}
