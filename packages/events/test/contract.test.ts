import { Type } from "@sinclair/typebox";
import {
  AudioCaptured,
  CATALOG,
  type ContractDefinition,
  checkContract,
  defineEvent,
  defineMessage,
  EmbeddingComputed,
  fixturesOf,
  SpeakerIdentified,
} from "@speakers/events";
import { describe, expect, it } from "vitest";

describe("checkContract", () => {
  it("passes on the real catalogue", () => {
    expect(checkContract(CATALOG)).toEqual([]);
  });

  it("covers every event of the chain and the error shape", () => {
    const typeIds = CATALOG.map((entry) => entry.typeId);
    for (const id of [
      "speakers.audio.captured.v1",
      "speakers.embedding.computed.v1",
      "speakers.embedding.failed.v1",
      "speakers.speaker.identified.v1",
      "speakers.speaker.enrolled.v1",
      "speakers.speaker.updated.v1",
      "speakers.speaker.deleted.v1",
      "speakers.speaker.enrollment-progress.v1",
      "speakers.error.payload.v1",
    ]) {
      expect(typeIds).toContain(id);
    }
  });

  it("fails, naming it, when a definition has no fixture", () => {
    const fixtures = fixturesOf(CATALOG);
    delete fixtures.SpeakerIdentified;
    expect(checkContract(CATALOG, fixtures)).toEqual([
      { name: "SpeakerIdentified", problem: "has no fixture" },
    ]);
  });

  it("fails on a fixture that does not validate, with the path", () => {
    const fixtures = { ...fixturesOf(CATALOG), AudioCaptured: { ...AudioCaptured.fixture, bytes: -1 } };
    const problems = checkContract(CATALOG, fixtures);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.name).toBe("AudioCaptured");
    expect(problems[0]?.problem).toMatch(/fixture is invalid: \/bytes/);
  });

  it("fails on a fixture whose vector does not match the model dimension", () => {
    const broken = { ...EmbeddingComputed.fixture, vector: EmbeddingComputed.fixture.vector.slice(1) };
    const problems = checkContract([EmbeddingComputed], { EmbeddingComputed: broken });
    expect(problems[0]?.problem).toMatch(/\/vector: Expected 256 numbers/);
  });

  it("fails on a fixture that changes on encode -> decode", () => {
    // JSON has no negative zero, so -0 comes back as 0: exactly the silent change the round trip exists for.
    const fixtures = { SpeakerIdentified: { ...SpeakerIdentified.fixture, margin: -0 } };
    expect(checkContract([SpeakerIdentified], fixtures)).toEqual([
      { name: "SpeakerIdentified", problem: "fixture changes on encode -> decode" },
    ]);
  });

  it("fails on open objects, bad type ids, duplicates and subjects outside the filter", () => {
    const open = defineMessage({
      name: "Open",
      typeId: "speakers.test.open.v1",
      description: "",
      schema: Type.Object({ a: Type.String() }),
      fixture: { a: "x" },
    });
    const badId = defineMessage({
      name: "BadId",
      typeId: "test.bad",
      description: "",
      schema: Type.Object({}, { additionalProperties: false }),
      fixture: {},
    });
    const offFilter = defineEvent({
      name: "OffFilter",
      typeId: "speakers.test.off-filter.v1",
      description: "",
      stream: "SPEAKERS",
      filter: "speaker.test",
      body: "json",
      schema: Type.Object({}, { additionalProperties: false }),
      subject: () => "speaker.other",
      subjectFor: () => "speaker.other",
      fixture: {},
    });
    const entries: ContractDefinition[] = [
      open,
      badId,
      offFilter,
      { ...badId, typeId: "speakers.test.x.v1" },
    ];
    expect(checkContract(entries).map(({ name, problem }) => `${name}: ${problem}`)).toEqual([
      "Open: object at / allows unknown properties",
      'BadId: type id "test.bad" is not speakers.<domain>.<name>.v<n>',
      'OffFilter: subject "speaker.other" does not match filter speaker.test',
      "BadId: name is declared twice",
    ]);
  });
});
