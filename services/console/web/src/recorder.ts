/**
 * Microphone capture as PCM through an AudioWorklet: the same samples drive the level meter and become the
 * WAV that is uploaded, so enrollment never depends on the browser's compressed recording formats.
 */
import { encodeWav } from "./wav.js";

export interface Recording {
  wav: Blob;
  seconds: number;
}

export interface Recorder {
  stop(): Promise<Recording>;
  cancel(): void;
}

/** 16 kHz is what the models use; the browser resamples the microphone to it. */
const SAMPLE_RATE = 16_000;

export async function startRecording(onLevel: (rms: number) => void): Promise<Recorder> {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
  });
  const context = new AudioContext({ sampleRate: SAMPLE_RATE });
  try {
    await context.audioWorklet.addModule("/capture-worklet.js");
  } catch (err) {
    for (const t of stream.getTracks()) t.stop();
    await context.close();
    throw err;
  }
  const source = context.createMediaStreamSource(stream);
  const node = new AudioWorkletNode(context, "capture");
  const chunks: Float32Array[] = [];
  node.port.onmessage = (e: MessageEvent<Float32Array>) => {
    chunks.push(e.data);
    let sum = 0;
    for (const v of e.data) sum += v * v;
    onLevel(Math.sqrt(sum / Math.max(1, e.data.length)));
  };
  source.connect(node);
  const release = async () => {
    source.disconnect();
    node.port.onmessage = null;
    for (const t of stream.getTracks()) t.stop();
    await context.close();
  };
  return {
    async stop() {
      await release();
      const total = chunks.reduce((n, c) => n + c.length, 0);
      const all = new Float32Array(total);
      let at = 0;
      for (const c of chunks) {
        all.set(c, at);
        at += c.length;
      }
      return { wav: encodeWav(all, context.sampleRate), seconds: total / context.sampleRate };
    },
    cancel() {
      void release();
    },
  };
}
