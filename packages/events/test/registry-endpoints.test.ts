import { CATALOG, ERRORS, REGISTRY_ENDPOINTS, SERVICES } from "@speakers/events";
import { describe, expect, it } from "vitest";

const endpoints = Object.values(REGISTRY_ENDPOINTS);

describe("the registry's endpoint table", () => {
  it("declares every registry subject once, under the service's prefix", () => {
    expect(endpoints.map((e) => e.subject).sort()).toEqual(Object.values(SERVICES.registry.endpoints).sort());
    expect(new Set(endpoints.map((e) => e.name)).size).toBe(endpoints.length);
    for (const e of endpoints) expect(e.subject.startsWith(`${SERVICES.registry.prefix}.`)).toBe(true);
  });

  it("uses only messages of the catalogue, and error codes of the error catalogue", () => {
    for (const e of endpoints) {
      expect(CATALOG).toContain(e.request);
      expect(CATALOG).toContain(e.reply);
      for (const code of e.errors ?? []) expect(Object.keys(ERRORS)).toContain(code);
    }
  });
});
