import { isDeepStrictEqual } from "node:util";
import type { TSchema } from "@sinclair/typebox";
import type { ContractDefinition } from "./define.js";
import { STREAMS, subjectMatches } from "./topology.js";
import { decodeJson, decodeMeta, encodeJson, encodeMeta, validationIssues } from "./validate.js";

export interface ContractProblem {
  /** The definition's name. */
  readonly name: string;
  readonly problem: string;
}

const TYPE_ID = /^speakers\.[a-z0-9-]+\.[a-z0-9.-]+\.v[0-9]+$/;
const NAME = /^[A-Z][A-Za-z0-9]*$/;

/** Each definition's own fixture, keyed by name. */
export function fixturesOf(entries: readonly ContractDefinition[]): Record<string, unknown> {
  return Object.fromEntries(entries.map((entry) => [entry.name, entry.fixture]));
}

/** Objects we declare must reject unknown fields, so a typo in a producer fails loudly instead of vanishing. */
function openObjects(schema: unknown, path: string, out: string[]): void {
  if (typeof schema !== "object" || schema === null) return;
  const node = schema as Record<string, unknown>;
  if (node.type === "object" && node.properties !== undefined && node.additionalProperties !== false) {
    out.push(path || "/");
  }
  for (const [key, child] of Object.entries(node)) {
    if (key === "properties" && typeof child === "object" && child !== null) {
      for (const [name, property] of Object.entries(child)) openObjects(property, `${path}/${name}`, out);
    } else if (Array.isArray(child)) {
      for (const [index, item] of child.entries()) openObjects(item, `${path}/${key}/${index}`, out);
    } else if (typeof child === "object") {
      openObjects(child, `${path}/${key}`, out);
    }
  }
}

function roundTrip(entry: ContractDefinition, fixture: unknown): unknown {
  return entry.body === "audio"
    ? decodeMeta(entry, encodeMeta(entry, fixture as never))
    : decodeJson(entry, encodeJson(entry, fixture as never));
}

function checkEvent(entry: ContractDefinition, fixture: unknown, problem: (text: string) => void): void {
  if (entry.kind !== "event") return;
  const stream = STREAMS[entry.stream];
  // A filter ending in ">" lies inside a stream when one subject it matches does.
  if (!stream.subjects.some((subjects) => subjectMatches(subjects, entry.filter.replace(/>$/, "x")))) {
    problem(`filter ${entry.filter} is not inside stream ${stream.name} (${stream.subjects.join(", ")})`);
  }
  const subject = entry.subjectFor(fixture);
  if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(subject)) problem(`subject "${subject}" is not a valid subject`);
  if (!subjectMatches(entry.filter, subject))
    problem(`subject "${subject}" does not match filter ${entry.filter}`);
}

/**
 * Every way the catalogue breaks the contract: a definition without a fixture, a fixture that does not
 * validate or does not survive encode -> decode unchanged, a bad name, type id or subject. Empty means sound.
 */
export function checkContract(
  entries: readonly ContractDefinition[],
  fixtures: Readonly<Record<string, unknown>> = fixturesOf(entries),
): ContractProblem[] {
  const problems: ContractProblem[] = [];
  const seenNames = new Set<string>();
  const seenTypeIds = new Set<string>();
  for (const entry of entries) {
    const problem = (text: string) => problems.push({ name: entry.name, problem: text });
    if (!NAME.test(entry.name)) problem(`name "${entry.name}" is not PascalCase`);
    if (seenNames.has(entry.name)) problem("name is declared twice");
    if (seenTypeIds.has(entry.typeId)) problem(`type id ${entry.typeId} is declared twice`);
    if (!TYPE_ID.test(entry.typeId))
      problem(`type id "${entry.typeId}" is not speakers.<domain>.<name>.v<n>`);
    seenNames.add(entry.name);
    seenTypeIds.add(entry.typeId);
    const open: string[] = [];
    openObjects(entry.schema as TSchema, "", open);
    for (const path of open) problem(`object at ${path} allows unknown properties`);

    if (!Object.hasOwn(fixtures, entry.name) || fixtures[entry.name] === undefined) {
      problem("has no fixture");
      continue;
    }
    const fixture = fixtures[entry.name];
    const issues = validationIssues(entry, fixture);
    if (issues.length > 0) {
      problem(
        `fixture is invalid: ${issues.map((issue) => `${issue.path || "/"}: ${issue.message}`).join("; ")}`,
      );
      continue;
    }
    try {
      const back = roundTrip(entry, fixture);
      if (!isDeepStrictEqual(back, fixture)) problem("fixture changes on encode -> decode");
    } catch (error) {
      problem(`fixture fails encode -> decode: ${(error as Error).message}`);
    }
    try {
      checkEvent(entry, fixture, problem);
    } catch (error) {
      problem(`subject cannot be built: ${(error as Error).message}`);
    }
  }
  return problems;
}
