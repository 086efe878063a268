import { describe, expect, it } from "vitest";
import { ECAPA_MODEL_KEY, GE2E_MODEL_KEY, policyFor, policyOverridesFromEnv } from "../src/policy.js";

describe("model policy", () => {
  it("has documented defaults per model", () => {
    expect(policyFor(ECAPA_MODEL_KEY).threshold).toBe(0.25);
    expect(policyFor(GE2E_MODEL_KEY).threshold).toBe(0.84);
    expect(policyFor("someone/else@1").threshold).toBe(0.3);
  });

  it("lets the exact key win over the model id and the wildcard", () => {
    const overrides = policyOverridesFromEnv({
      SPEAKERS_POLICY: JSON.stringify({
        "*": { margin: 0.2 },
        "resemblyzer/ge2e": { threshold: 0.8 },
        [GE2E_MODEL_KEY]: { consistencyFloor: 0.5 },
      }),
    });
    expect(policyFor(GE2E_MODEL_KEY, overrides)).toEqual({
      threshold: 0.8,
      margin: 0.2,
      consistencyFloor: 0.5,
    });
    expect(policyFor(ECAPA_MODEL_KEY, overrides).margin).toBe(0.2);
  });

  it("reads the shorthands", () => {
    const overrides = policyOverridesFromEnv({ SPEAKERS_THRESHOLD: "0.6", SPEAKERS_MARGIN: "0.01" });
    expect(policyFor(ECAPA_MODEL_KEY, overrides)).toMatchObject({ threshold: 0.6, margin: 0.01 });
  });

  it("rejects bad configuration with a typed error", () => {
    expect(() => policyOverridesFromEnv({ SPEAKERS_THRESHOLD: "high" })).toThrow(
      expect.objectContaining({ code: "INVALID_REQUEST" }),
    );
    expect(() => policyOverridesFromEnv({ SPEAKERS_POLICY: "{" })).toThrow(/not valid JSON/);
    expect(() => policyOverridesFromEnv({ SPEAKERS_POLICY: '{"x":{"treshold":1}}' })).toThrow(
      /not a policy field/,
    );
  });
});
