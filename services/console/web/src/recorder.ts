/**
 * Microphone capture as PCM through an AudioWorklet: the same samples drive the level meter and become the
 * WAV that is uploaded, so enrollment never depends on the browser's compressed recording formats. The
 * microphone stays open while the Enroll page is shown, so the meter moves before a take starts and one
 * permission prompt covers every phrase.
 */
import { encodeWav } from "./wav.js";

export interface Recording {
  wav: Blob;
  seconds: number;
}

export interface Microphone {
  /** Starts keeping samples (the level is reported all along). */
  startTake(): void;
  /** Stops keeping samples and returns them as WAV. */
  endTake(): Recording;
  close(): Promise<void>;
}

/** 16 kHz is what the models use; the browser resamples the microphone to it. */
const SAMPLE_RATE = 16_000;

export async function openMicrophone(onLevel: (rms: number) => void): Promise<Microphone> {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
  });
  const context = new AudioContext({ sampleRate: SAMPLE_RATE });
  const release = async () => {
    for (const t of stream.getTracks()) t.stop();
    await context.close();
  };
  try {
    await context.audioWorklet.addModule("/capture-worklet.js");
  } catch (err) {
    await release();
    throw err;
  }
  const source = context.createMediaStreamSource(stream);
  const node = new AudioWorkletNode(context, "capture");
  let take: Float32Array[] | undefined;
  node.port.onmessage = (e: MessageEvent<Float32Array>) => {
    take?.push(e.data);
    let sum = 0;
    for (const v of e.data) sum += v * v;
    onLevel(Math.sqrt(sum / Math.max(1, e.data.length)));
  };
  source.connect(node);
  return {
    startTake() {
      take = [];
    },
    endTake() {
      const chunks = take ?? [];
      take = undefined;
      const total = chunks.reduce((n, c) => n + c.length, 0);
      const all = new Float32Array(total);
      let at = 0;
      for (const c of chunks) {
        all.set(c, at);
        at += c.length;
      }
      return { wav: encodeWav(all, context.sampleRate), seconds: total / context.sampleRate };
    },
    async close() {
      source.disconnect();
      node.port.onmessage = null;
      await release();
    },
  };
}
