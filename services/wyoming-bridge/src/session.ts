import { randomUUID } from "node:crypto";
import { type Bus, type Logger, publish, putClip } from "@speakers/bus";
import {
  AudioCaptured,
  type AudioCaptured as AudioCapturedPayload,
  AudioTranscribed,
  clipTranscript,
  INLINE_AUDIO_LIMIT_BYTES,
  type SpeakerIdentified,
  SpeakersError,
} from "@speakers/events";
import type { BridgeConfig, Listener, TagMode } from "./config.js";
import { type Expectation, type IdentificationWatch, within } from "./identifications.js";
import { bytesToMs, type PcmFormat, pcmFormatOf, SpeechMeter, sameFormat, wav } from "./pcm.js";
import { CE_SOURCE, identifyProvisionally } from "./provisional.js";
import { openUpstream, type UpstreamTranscript, type UpstreamUtterance } from "./upstream.js";
import type { WyomingEvent } from "./wire.js";

/** `source.service` of what the bridge publishes. */
export const SOURCE_SERVICE = "wyoming";

/** What one utterance cost, for the benchmark and the logs. */
export interface UtteranceTimings {
  sourceEventId: string;
  room?: string;
  /** audio-stop -> the upstream's transcript (0 without upstream). */
  upstreamMs: number;
  /** audio-stop -> its speaker.identified (and the awaited plugins' acks); undefined when the wait ran out. */
  identifiedMs?: number;
  /** audio-stop -> our transcript written to the client. */
  transcriptMs: number;
  decision?: SpeakerIdentified["decision"];
}

export interface SessionContext {
  bus: Bus;
  config: BridgeConfig;
  listener: Listener;
  watch: IdentificationWatch;
  logger: Logger;
  info(): Promise<WyomingEvent>;
  onUtterance?: (timings: UtteranceTimings) => void;
}

interface Utterance {
  id: string;
  format: PcmFormat;
  capturedAt: Date;
  chunks: Uint8Array[];
  bytes: number;
  meter: SpeechMeter;
  upstream: UpstreamUtterance | undefined;
  expectation: Expectation;
  provisional: boolean;
}

/**
 * One client connection: Home Assistant's `describe`, or `transcribe`, `audio-start`, `audio-chunk`*,
 * `audio-stop` -> `transcript`. Throws SpeakersError on input the protocol does not allow; the server answers
 * it with an `error` event and closes this connection only.
 */
export class Session {
  private transcribe: Record<string, unknown> | undefined;
  private utterance: Utterance | undefined;
  private closed = false;

  constructor(
    private readonly ctx: SessionContext,
    private readonly send: (event: WyomingEvent) => void,
  ) {}

  /** Whether an event must wait for the ones before it (only audio-stop and describe do async work). */
  async handle(event: WyomingEvent): Promise<void> {
    switch (event.type) {
      case "describe":
        this.send(await this.ctx.info());
        return;
      case "ping":
        this.send({
          type: "pong",
          data: typeof event.data.text === "string" ? { text: event.data.text } : {},
        });
        return;
      case "transcribe":
        this.transcribe = event.data;
        return;
      case "audio-start":
        this.start(event);
        return;
      case "audio-chunk":
        this.chunk(event);
        return;
      case "audio-stop":
        await this.stop();
        return;
      default:
        // The protocol lets peers ignore events they do not know (newer clients send more).
        this.ctx.logger.debug({ type: event.type }, "ignoring an unknown Wyoming event");
    }
  }

  /** The client went away (or broke the protocol): drop the utterance and its upstream; nothing is published. */
  abort(): void {
    this.closed = true;
    const u = this.utterance;
    this.utterance = undefined;
    u?.upstream?.close();
    u?.expectation.cancel();
  }

  private start(event: WyomingEvent): void {
    if (this.utterance) {
      throw new SpeakersError("WYOMING_OUT_OF_ORDER", "audio-start arrived while an utterance was open.");
    }
    const format = pcmFormatOf("audio-start", event.data);
    const id = randomUUID();
    const { upstream } = this.ctx.config;
    let stream: UpstreamUtterance | undefined;
    if (upstream) {
      stream = openUpstream(upstream);
      stream.send({ type: "transcribe", data: this.transcribe ?? {} });
      stream.send(event);
    }
    this.utterance = {
      id,
      format,
      capturedAt: new Date(),
      chunks: [],
      bytes: 0,
      meter: new SpeechMeter(format),
      upstream: stream,
      // Before anything is published, so the identification cannot arrive unseen.
      expectation: this.ctx.watch.expect(id),
      provisional: false,
    };
  }

  private chunk(event: WyomingEvent): void {
    const u = this.utterance;
    if (!u) throw new SpeakersError("WYOMING_OUT_OF_ORDER", "audio-chunk arrived before audio-start.");
    const format = pcmFormatOf("audio-chunk", event.data);
    if (!sameFormat(format, u.format)) {
      throw new SpeakersError(
        "AUDIO_UNSUPPORTED_FORMAT",
        `audio-chunk is ${format.rate} Hz/${format.width * 8} bit/${format.channels} ch but audio-start said ${u.format.rate} Hz/${u.format.width * 8} bit/${u.format.channels} ch.`,
      );
    }
    const pcm = event.payload ?? new Uint8Array(0);
    if (pcm.length % (format.width * format.channels) !== 0) {
      throw new SpeakersError(
        "WYOMING_BAD_FRAME",
        `audio-chunk has ${pcm.length} bytes, not a whole number of ${format.width * format.channels}-byte frames.`,
      );
    }
    const ms = bytesToMs(u.bytes + pcm.length, u.format);
    if (ms > this.ctx.config.maxUtteranceMs) {
      throw new SpeakersError(
        "AUDIO_TOO_LONG",
        `The utterance passed ${this.ctx.config.maxUtteranceMs} ms without an audio-stop.`,
      );
    }
    u.upstream?.send(event);
    u.chunks.push(pcm);
    u.bytes += pcm.length;
    u.meter.push(pcm);
    const { provisionalSpeechMs } = this.ctx.config;
    if (!u.provisional && provisionalSpeechMs > 0 && u.meter.speechMs >= provisionalSpeechMs) {
      u.provisional = true;
      identifyProvisionally(this.ctx.bus, {
        sourceEventId: u.id,
        pcm: Buffer.concat(u.chunks),
        format: u.format,
        speechMs: u.meter.speechMs,
        source: this.source(),
        capturedAt: u.capturedAt.toISOString(),
      }).catch((err) => this.ctx.logger.warn({ err, utterance: u.id }, "provisional identification failed"));
    }
  }

  private async stop(): Promise<void> {
    const u = this.utterance;
    if (!u) throw new SpeakersError("WYOMING_OUT_OF_ORDER", "audio-stop arrived before audio-start.");
    const stoppedAt = performance.now();
    u.upstream?.send({ type: "audio-stop", data: {} });
    const deadline = stoppedAt + this.ctx.config.waitMs;

    // Identification and speech-to-text run side by side. The transcript waits for the identification as
    // long as the upstream takes, and at least waitMs after audio-stop.
    const published = u.bytes > 0 ? this.publishAudio(u) : Promise.resolve(false);
    const identified = published.then(async (ok) => {
      if (!ok) return undefined;
      const who = await u.expectation.ready;
      return { who, at: performance.now() };
    });
    let heard: UpstreamTranscript = { text: "" };
    let upstreamAt = stoppedAt;
    try {
      if (u.upstream) {
        heard = await u.upstream.transcript(this.ctx.config.upstreamTimeoutMs);
        upstreamAt = performance.now();
      }
    } catch (err) {
      u.expectation.cancel();
      throw err;
    } finally {
      if (this.utterance === u) this.utterance = undefined;
    }
    const result = await within(identified, Math.max(deadline, performance.now()));
    u.expectation.cancel();
    const who = result?.who;
    const at = result?.at ?? 0;
    if (this.closed) return;
    const speaker = who?.event.decision === "known" ? who.event.speaker?.name : undefined;
    const text = tagged(heard.text, speaker, this.ctx.config.tag);
    this.send({
      type: "transcript",
      data: heard.language === undefined ? { text } : { text, language: heard.language },
    });
    const transcriptAt = performance.now();
    this.ctx.onUtterance?.({
      sourceEventId: u.id,
      ...(this.ctx.listener.room === undefined ? {} : { room: this.ctx.listener.room }),
      upstreamMs: upstreamAt - stoppedAt,
      ...(who ? { identifiedMs: at - stoppedAt, decision: who.event.decision } : {}),
      transcriptMs: transcriptAt - stoppedAt,
    });
    if (heard.text !== "" && (await published)) {
      void this.publishTranscript(u, heard, upstreamAt - stoppedAt);
    }
  }

  private source(): AudioCapturedPayload["source"] {
    const { deviceId, room } = this.ctx.listener;
    return { service: SOURCE_SERVICE, deviceId, ...(room === undefined ? {} : { room }) };
  }

  /** audio.captured for the whole utterance (WAV). A bus that is down costs the identification, not the answer. */
  private async publishAudio(u: Utterance): Promise<boolean> {
    try {
      const body = wav(Buffer.concat(u.chunks), u.format);
      const event: AudioCapturedPayload = {
        source: this.source(),
        capturedAt: u.capturedAt.toISOString(),
        format: { encoding: "wav", sampleRate: u.format.rate, channels: u.format.channels },
        durationMs: Math.round(bytesToMs(u.bytes, u.format)),
        bytes: body.length,
        audio: { kind: "inline" },
        ...(typeof this.transcribe?.language === "string"
          ? { tags: { language: this.transcribe.language.slice(0, 1000) } }
          : {}),
      };
      let inline: Uint8Array | undefined = body;
      if (body.length > INLINE_AUDIO_LIMIT_BYTES) {
        const ref = await putClip(this.ctx.bus, `captured/${u.id}`, body, { contentType: "audio/wav" });
        event.audio = { kind: "object", bucket: ref.bucket, name: ref.name, digest: ref.digest };
        inline = undefined;
      }
      await publish(this.ctx.bus, AudioCaptured, event, {
        id: u.id,
        source: CE_SOURCE,
        contentType: "audio/wav",
        ...(inline === undefined ? {} : { body: inline }),
      });
      return true;
    } catch (err) {
      this.ctx.logger.warn(
        { err, utterance: u.id },
        "could not publish the utterance; answering without a speaker",
      );
      return false;
    }
  }

  private async publishTranscript(u: Utterance, heard: UpstreamTranscript, latencyMs: number): Promise<void> {
    try {
      await publish(
        this.ctx.bus,
        AudioTranscribed,
        {
          sourceEventId: u.id,
          source: this.source(),
          capturedAt: u.capturedAt.toISOString(),
          ...clipTranscript(heard.text),
          ...(heard.language === undefined ? {} : { language: heard.language.slice(0, 35) }),
          latencyMs,
        },
        { id: `transcript-${u.id}`, correlationId: u.id, source: CE_SOURCE },
      );
    } catch (err) {
      this.ctx.logger.warn({ err, utterance: u.id }, "could not publish the transcript");
    }
  }
}

/** The speaker in the transcript, only when asked: Home Assistant's intent matching reads this text. */
export function tagged(text: string, speaker: string | undefined, mode: TagMode): string {
  if (speaker === undefined || mode === "none") return text;
  if (mode === "prefix") return text === "" ? `[${speaker}]` : `[${speaker}] ${text}`;
  return text === "" ? `[${speaker}]` : `${text} [${speaker}]`;
}
