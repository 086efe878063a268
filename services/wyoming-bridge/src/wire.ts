import { SpeakersError } from "@speakers/events";

/**
 * The Wyoming wire format, written from the protocol description: one JSON header line with `type` and, when
 * they follow, `data_length` and `payload_length`; then that many bytes of JSON data (merged over any `data`
 * given inline in the header); then that many bytes of binary payload (audio).
 */
export interface WyomingEvent {
  type: string;
  data: Record<string, unknown>;
  payload?: Uint8Array;
}

export interface FrameLimits {
  /** The header line, newline included. */
  maxHeaderBytes: number;
  maxDataBytes: number;
  maxPayloadBytes: number;
}

/** Home Assistant's frames are tiny (an audio-chunk is about 1 KiB); these leave room and bound memory. */
export const DEFAULT_FRAME_LIMITS: FrameLimits = {
  maxHeaderBytes: 64 * 1024,
  maxDataBytes: 1024 * 1024,
  maxPayloadBytes: 1024 * 1024,
};

/** The protocol version we write into headers (the one the Python library we test against speaks). */
export const WYOMING_VERSION = "1.10.2";

const NEWLINE = 0x0a;

interface Header {
  type: string;
  inline: Record<string, unknown>;
  dataLength: number;
  payloadLength: number;
}

/**
 * Incremental reader: feed it what the socket gives, get back whole events. Throws SpeakersError
 * (WYOMING_BAD_FRAME, WYOMING_FRAME_TOO_LARGE) on the first bad frame; after that the stream is out of sync
 * and the connection must close.
 */
export class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);
  private header: Header | undefined;

  constructor(private readonly limits: FrameLimits = DEFAULT_FRAME_LIMITS) {}

  /** Bytes held that do not yet make a whole event. */
  get pendingBytes(): number {
    return this.buffered.length;
  }

  push(chunk: Uint8Array): WyomingEvent[] {
    this.buffered = this.buffered.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffered, chunk]);
    const events: WyomingEvent[] = [];
    for (;;) {
      if (this.header === undefined) {
        const end = this.buffered.indexOf(NEWLINE);
        if (end < 0) {
          if (this.buffered.length > this.limits.maxHeaderBytes) {
            throw tooLarge(`a header line longer than ${this.limits.maxHeaderBytes} bytes`);
          }
          return events;
        }
        if (end + 1 > this.limits.maxHeaderBytes) {
          throw tooLarge(`a header line of ${end + 1} bytes (limit ${this.limits.maxHeaderBytes})`);
        }
        const line = this.buffered.subarray(0, end);
        this.buffered = this.buffered.subarray(end + 1);
        this.header = parseHeader(line, this.limits);
      }
      const { dataLength, payloadLength } = this.header;
      if (this.buffered.length < dataLength + payloadLength) return events;
      const header = this.header;
      this.header = undefined;
      let data = header.inline;
      if (dataLength > 0) {
        data = { ...data, ...parseObject(this.buffered.subarray(0, dataLength), "data") };
      }
      const event: WyomingEvent = { type: header.type, data };
      if (payloadLength > 0) {
        // Copy out: the payload outlives the buffer it was cut from.
        event.payload = Uint8Array.prototype.slice.call(
          this.buffered.subarray(dataLength, dataLength + payloadLength),
        );
      }
      this.buffered = this.buffered.subarray(dataLength + payloadLength);
      events.push(event);
    }
  }
}

function parseHeader(line: Buffer, limits: FrameLimits): Header {
  const header = parseObject(line, "header");
  const type = header.type;
  if (typeof type !== "string" || type.length === 0 || type.length > 100) {
    throw badFrame("the header has no event `type` (a string of 1 to 100 characters)");
  }
  const inline = header.data ?? {};
  if (typeof inline !== "object" || inline === null || Array.isArray(inline)) {
    throw badFrame(`the inline \`data\` of ${type} is not a JSON object`);
  }
  const dataLength = length(header.data_length, "data_length", type);
  const payloadLength = length(header.payload_length, "payload_length", type);
  if (dataLength > limits.maxDataBytes) {
    throw tooLarge(`${type} declares data_length ${dataLength} (limit ${limits.maxDataBytes})`);
  }
  if (payloadLength > limits.maxPayloadBytes) {
    throw tooLarge(`${type} declares payload_length ${payloadLength} (limit ${limits.maxPayloadBytes})`);
  }
  return { type, inline: inline as Record<string, unknown>, dataLength, payloadLength };
}

function length(value: unknown, field: string, type: string): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw badFrame(`${type} has ${field} ${JSON.stringify(value)}; it must be a whole number of bytes`);
  }
  return value;
}

function parseObject(bytes: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw badFrame(`the ${what} is not UTF-8 JSON (${bytes.length} bytes)`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw badFrame(`the ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function badFrame(message: string): SpeakersError {
  return new SpeakersError("WYOMING_BAD_FRAME", `Bad Wyoming frame: ${message}.`);
}

function tooLarge(message: string): SpeakersError {
  return new SpeakersError("WYOMING_FRAME_TOO_LARGE", `Wyoming frame too large: ${message}.`);
}

/** One event as bytes: header line, then data (as `data_length` bytes), then the payload. */
export function encodeEvent(event: WyomingEvent): Buffer {
  const header: Record<string, unknown> = { type: event.type, version: WYOMING_VERSION };
  const parts: Buffer[] = [];
  const hasData = Object.keys(event.data).length > 0;
  const data = hasData ? Buffer.from(JSON.stringify(event.data), "utf8") : undefined;
  if (data) header.data_length = data.length;
  if (event.payload && event.payload.length > 0) header.payload_length = event.payload.length;
  parts.push(Buffer.from(`${JSON.stringify(header)}\n`, "utf8"));
  if (data) parts.push(data);
  if (event.payload && event.payload.length > 0) parts.push(Buffer.from(event.payload));
  return Buffer.concat(parts);
}
