import { connect, type Socket } from "node:net";
import { SpeakersError } from "@speakers/events";
import { encodeEvent, FrameReader, type WyomingEvent } from "./wire.js";

export interface UpstreamAddress {
  host: string;
  port: number;
}

export interface UpstreamTranscript {
  text: string;
  language?: string;
}

/**
 * One utterance on the real speech-to-text service. Events are written the moment they arrive (a socket
 * still connecting buffers them), so the upstream decodes while the user is still speaking.
 */
export interface UpstreamUtterance {
  send(event: WyomingEvent): void;
  /** The upstream's `transcript`; WYOMING_UPSTREAM_FAILED when it errs, closes or times out. */
  transcript(timeoutMs: number): Promise<UpstreamTranscript>;
  close(): void;
}

let open = 0;

/** Upstream connections not yet closed, over every bridge in this process (for the leak checks). */
export function openUpstreamConnections(): number {
  return open;
}

export function openUpstream(address: UpstreamAddress): UpstreamUtterance {
  const socket = connect({ host: address.host, port: address.port });
  open++;
  socket.once("close", () => open--);
  socket.setNoDelay(true);
  const result = readUntil(socket, "transcript", `upstream ${address.host}:${address.port}`);
  // Nobody may be waiting yet (the utterance can still be aborted): keep an early failure from being unhandled.
  result.promise.catch(() => {});
  return {
    send(event) {
      if (!socket.destroyed) socket.write(encodeEvent(event));
    },
    async transcript(timeoutMs) {
      const timer = setTimeout(
        () => result.fail(upstreamError(`no transcript within ${timeoutMs} ms of audio-stop`)),
        timeoutMs,
      );
      try {
        const event = await result.promise;
        const text = typeof event.data.text === "string" ? event.data.text : "";
        const language = typeof event.data.language === "string" ? event.data.language : undefined;
        return language === undefined ? { text } : { text, language };
      } finally {
        clearTimeout(timer);
        socket.end();
      }
    },
    close() {
      socket.destroy();
    },
  };
}

/** Asks the upstream what it is (`describe` -> `info`), for the languages our own `info` lists. */
export async function describeUpstream(address: UpstreamAddress, timeoutMs: number): Promise<WyomingEvent> {
  const socket = connect({ host: address.host, port: address.port });
  const result = readUntil(socket, "info", `upstream ${address.host}:${address.port}`);
  const timer = setTimeout(() => result.fail(upstreamError(`no info within ${timeoutMs} ms`)), timeoutMs);
  socket.write(encodeEvent({ type: "describe", data: {} }));
  try {
    return await result.promise;
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}

/** The languages an upstream's `info` lists over its ASR programs' models. */
export function upstreamLanguages(info: WyomingEvent): string[] {
  const languages = new Set<string>();
  const asr = Array.isArray(info.data.asr) ? info.data.asr : [];
  for (const program of asr) {
    const models = Array.isArray(program?.models) ? program.models : [];
    for (const model of models) {
      for (const language of Array.isArray(model?.languages) ? model.languages : []) {
        if (typeof language === "string") languages.add(language);
      }
    }
  }
  return [...languages];
}

function readUntil(socket: Socket, type: string, who: string) {
  let settle: { resolve(e: WyomingEvent): void; reject(e: Error): void } | undefined;
  const promise = new Promise<WyomingEvent>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const done = (fn: () => void) => {
    if (!settle) return;
    fn();
    settle = undefined;
  };
  const fail = (err: Error) => {
    done(() => settle?.reject(err));
    socket.destroy();
  };
  const reader = new FrameReader();
  socket.on("data", (chunk) => {
    let events: WyomingEvent[];
    try {
      events = reader.push(chunk);
    } catch (err) {
      fail(upstreamError(`${who} sent a bad frame: ${(err as Error).message}`));
      return;
    }
    for (const event of events) {
      if (event.type === type) done(() => settle?.resolve(event));
      else if (event.type === "error") {
        const text = typeof event.data.text === "string" ? event.data.text : "no text";
        fail(upstreamError(`${who} answered an error: ${text}`));
      }
    }
  });
  socket.on("error", (err) => fail(upstreamError(`${who}: ${err.message}`)));
  socket.on("close", () => fail(upstreamError(`${who} closed the connection before its ${type}`)));
  return { promise, fail };
}

function upstreamError(message: string): SpeakersError {
  return new SpeakersError("WYOMING_UPSTREAM_FAILED", `Speech-to-text failed: ${message}.`);
}
