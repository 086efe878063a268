import { describe, expect, it } from "vitest";
import { encodeEvent, FrameReader } from "../src/index.js";

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
};

describe("Wyoming frames", () => {
  it("reads data given inline, as data_length bytes, or both (merged), and a payload", () => {
    const reader = new FrameReader();
    const bytes = Buffer.concat([
      Buffer.from('{"type":"transcribe","data":{"language":"en"}}\n'),
      Buffer.from('{"type":"audio-chunk","data":{"rate":16000},"data_length":24,"payload_length":4}\n'),
      Buffer.from('{"width":2,"channels":1}'),
      Buffer.from([1, 2, 3, 4]),
    ]);
    const events = reader.push(bytes);
    expect(events).toHaveLength(2);
    expect(events[0]).toEqual({ type: "transcribe", data: { language: "en" } });
    expect(events[1]?.data).toEqual({ rate: 16000, width: 2, channels: 1 });
    expect([...(events[1]?.payload ?? [])]).toEqual([1, 2, 3, 4]);
  });

  it("reassembles events cut at every byte", () => {
    const whole = Buffer.concat([
      encodeEvent({ type: "audio-start", data: { rate: 16000, width: 2, channels: 1 } }),
      encodeEvent({
        type: "audio-chunk",
        data: { rate: 16000, width: 2, channels: 1 },
        payload: new Uint8Array(10),
      }),
      encodeEvent({ type: "audio-stop", data: {} }),
    ]);
    const reader = new FrameReader();
    const types: string[] = [];
    for (const byte of whole) types.push(...reader.push(Uint8Array.of(byte)).map((e) => e.type));
    expect(types).toEqual(["audio-start", "audio-chunk", "audio-stop"]);
    expect(reader.pendingBytes).toBe(0);
  });

  it("refuses absurd lengths before reading them, and frames that are not Wyoming", () => {
    const limits = { maxHeaderBytes: 64, maxDataBytes: 100, maxPayloadBytes: 100 };
    expect(
      codeOf(() => new FrameReader(limits).push(Buffer.from('{"type":"x","payload_length":1073741824}\n'))),
    ).toBe("WYOMING_FRAME_TOO_LARGE");
    expect(codeOf(() => new FrameReader(limits).push(Buffer.alloc(65, 0x41)))).toBe(
      "WYOMING_FRAME_TOO_LARGE",
    );
    expect(codeOf(() => new FrameReader(limits).push(Buffer.from('{"type":"x","data_length":-1}\n')))).toBe(
      "WYOMING_BAD_FRAME",
    );
    expect(codeOf(() => new FrameReader(limits).push(Buffer.from('{"data":{}}\n')))).toBe(
      "WYOMING_BAD_FRAME",
    );
    expect(codeOf(() => new FrameReader(limits).push(Buffer.from([0xff, 0xfe, 0x00, 0x0a])))).toBe(
      "WYOMING_BAD_FRAME",
    );
    expect(codeOf(() => new FrameReader(limits).push(Buffer.from('["type"]\n')))).toBe("WYOMING_BAD_FRAME");
  });

  it("writes data as data_length bytes after the header, the payload after it", () => {
    const bytes = encodeEvent({
      type: "transcript",
      data: { text: "hallo wält" },
      payload: Uint8Array.of(9),
    });
    const newline = bytes.indexOf(0x0a);
    const header = JSON.parse(bytes.subarray(0, newline).toString());
    expect(header).toMatchObject({
      type: "transcript",
      data_length: Buffer.byteLength('{"text":"hallo wält"}'),
    });
    expect(header.payload_length).toBe(1);
    expect(bytes.at(-1)).toBe(9);
  });
});
