import { connect } from "node:net";
import { FrameReader, type WyomingEvent } from "../../src/index.js";

export interface RawResult {
  events: WyomingEvent[];
  /** The bridge closed the connection (as opposed to the test giving up waiting). */
  closedByBridge: boolean;
}

/**
 * Writes raw bytes to the bridge, as a broken or hostile client would, then reads what comes back until
 * the bridge closes or `waitMs` passes. `end`: half-close after writing (a client that stops mid-frame).
 */
export function rawExchange(
  port: number,
  writes: Array<Uint8Array | string>,
  options: { end?: boolean; waitMs?: number } = {},
): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    const reader = new FrameReader();
    const events: WyomingEvent[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ events, closedByBridge: false });
    }, options.waitMs ?? 5_000);
    socket.on("connect", () => {
      for (const w of writes) socket.write(w);
      if (options.end) socket.end();
    });
    socket.on("data", (chunk) => events.push(...reader.push(chunk)));
    socket.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ events, closedByBridge: true });
    });
  });
}

/** One frame as a client library would write it, with the lengths it declares overridable. */
export function frame(
  type: string,
  data: Record<string, unknown> = {},
  payload?: Uint8Array,
  header: Record<string, unknown> = {},
): Buffer {
  const dataBytes = Object.keys(data).length > 0 ? Buffer.from(JSON.stringify(data)) : Buffer.alloc(0);
  const head = {
    type,
    ...(dataBytes.length > 0 ? { data_length: dataBytes.length } : {}),
    ...(payload ? { payload_length: payload.length } : {}),
    ...header,
  };
  return Buffer.concat([Buffer.from(`${JSON.stringify(head)}\n`), dataBytes, payload ?? Buffer.alloc(0)]);
}
