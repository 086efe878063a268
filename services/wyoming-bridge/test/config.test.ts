import { describe, expect, it } from "vitest";
import { bridgeConfigFromEnv, tagged } from "../src/index.js";

describe("bridge config", () => {
  it("listens on loopback by default, and on one address per room", () => {
    expect(bridgeConfigFromEnv({}).listeners).toEqual([
      { host: "127.0.0.1", port: 10350, deviceId: "wyoming" },
    ]);
    const config = bridgeConfigFromEnv({
      SPEAKERS_WYOMING_URI: "off",
      SPEAKERS_WYOMING_ROOMS: "kitchen=tcp://0.0.0.0:10351, living room=tcp://[::1]:10352",
    });
    expect(config.listeners).toEqual([
      { host: "0.0.0.0", port: 10351, room: "kitchen", deviceId: "wyoming-kitchen" },
      { host: "::1", port: 10352, room: "living room", deviceId: "wyoming-living-room" },
    ]);
  });

  it("has the documented defaults", () => {
    expect(bridgeConfigFromEnv({})).toMatchObject({
      upstream: null,
      waitMs: 500,
      tag: "none",
      provisionalSpeechMs: 1500,
      zeroconf: false,
      awaitPlugins: ["home-assistant"],
    });
    expect(bridgeConfigFromEnv({ SPEAKERS_WYOMING_UPSTREAM: "tcp://whisper:10300" }).upstream).toEqual({
      host: "whisper",
      port: 10300,
    });
  });

  it("refuses settings it cannot honour, naming the variable", () => {
    expect(() => bridgeConfigFromEnv({ SPEAKERS_WYOMING_TAG: "both" })).toThrow(/SPEAKERS_WYOMING_TAG/);
    expect(() => bridgeConfigFromEnv({ SPEAKERS_WYOMING_UPSTREAM: "http://x:1" })).toThrow(
      /SPEAKERS_WYOMING_UPSTREAM/,
    );
    expect(() => bridgeConfigFromEnv({ SPEAKERS_WYOMING_ROOMS: "tcp://127.0.0.1:1" })).toThrow(/room=tcp/);
    expect(() => bridgeConfigFromEnv({ SPEAKERS_WYOMING_WAIT_MS: "-1" })).toThrow(/SPEAKERS_WYOMING_WAIT_MS/);
    expect(() => bridgeConfigFromEnv({ SPEAKERS_WYOMING_URI: "off" })).toThrow(/nothing to listen on/);
  });

  it("tags only known speakers, and only when asked", () => {
    expect(tagged("turn on the light", "Alice", "none")).toBe("turn on the light");
    expect(tagged("turn on the light", "Alice", "prefix")).toBe("[Alice] turn on the light");
    expect(tagged("turn on the light", "Alice", "suffix")).toBe("turn on the light [Alice]");
    expect(tagged("turn on the light", undefined, "prefix")).toBe("turn on the light");
  });
});
