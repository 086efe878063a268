import { resolve } from "node:path";
import { speakerFolders } from "../../src/index.js";

/** The shared LibriSpeech dev set (one folder per speaker), never copied into the repo. */
export const DEV_AUDIO =
  process.env.SPEAKERS_DEV_AUDIO ?? resolve(import.meta.dirname, "../../../../../shared/audio/dev");

export const devSpeakers = () => speakerFolders(DEV_AUDIO);

export async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
