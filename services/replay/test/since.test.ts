import { SpeakersError } from "@speakers/events";
import { describe, expect, it } from "vitest";
import { parseSince } from "../src/index.js";

describe("--since", () => {
  it("is a stream sequence when it is a whole number, else a time", () => {
    expect(parseSince("1")).toEqual({ seq: 1 });
    expect(parseSince(" 5000 ")).toEqual({ seq: 5000 });
    expect(parseSince("2026-11-01T08:00:00Z")).toEqual({ time: new Date("2026-11-01T08:00:00Z") });
    expect(parseSince("2026-11-01")).toEqual({ time: new Date("2026-11-01") });
  });

  it("refuses anything else with a typed error", () => {
    for (const bad of ["0", "", "yesterday", "-3"]) {
      expect(() => parseSince(bad)).toThrow(SpeakersError);
    }
  });
});
