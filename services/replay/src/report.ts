/**
 * How identification would change under the replayed model: each replayed audio event that the live system
 * identified (SPEAKERS `speaker.identified`, matched by sourceEventId) is decided again against the replayed
 * model's voiceprints with the same open-set rule and that model's default threshold, then compared.
 */
import type { Bus } from "@speakers/bus";
import {
  AudioCaptured,
  EmbeddingComputed,
  HEADERS,
  type ModelRef,
  modelKey,
  REPLAY_SOURCE,
  SpeakerIdentified,
  STREAMS,
} from "@speakers/events";
import { decide, type PolicyOverrides, policyFor, rank } from "@speakers/scoring";
import { readVoiceprints } from "@speakers/speaker-registry";
import { type ScanOptions, scan } from "./scan.js";

export interface ReportRow {
  /** The speaker the live system named; null for the events it called unknown. */
  speakerId: string | null;
  name: string;
  /** Replayed events the live system gave this decision. */
  events: number;
  /** ...that the replayed model decides the same way (same speaker, or unknown again). */
  agreed: number;
  /** agreed / events; null without events. */
  agreement: number | null;
  /** Mean of (replayed model's top score - live top score) over the events; null without events. */
  meanScoreShift: number | null;
  /** The same, relative to each model's threshold (score - threshold), which compares across models. */
  meanMarginShift: number | null;
  becameUnknown: number;
  becameOther: number;
  /** The live unknowns the replayed model would name (only in the unknown row). */
  becameKnown: number;
}

export interface ReplayReport {
  model: ModelRef;
  /** Live model(s) the compared decisions were made with. */
  liveModels: string[];
  threshold: number;
  margin: number;
  /** Replayed events with an embedding of the model. */
  replayed: number;
  /** ...of which the live system identified (the ones compared). */
  compared: number;
  withoutLiveDecision: number;
  rows: ReportRow[];
  overall: Omit<ReportRow, "speakerId" | "name">;
}

interface Live {
  speakerId: string | undefined;
  name: string | undefined;
  score: number;
  threshold: number;
  model: string;
}

export interface ReportOptions {
  /** The replay's first AUDIO message (the durable's start); events before it are out of scope. */
  start?: ScanOptions["start"];
  /** Every enrolled speaker (id, name) gets a row, even without events. */
  speakers: readonly { id: string; name: string }[];
  policyOverrides?: PolicyOverrides;
}

export async function buildReport(bus: Bus, model: ModelRef, options: ReportOptions): Promise<ReplayReport> {
  const inScope = new Set<string>();
  await scan(
    bus,
    STREAMS.AUDIO.name,
    { filter: AudioCaptured.filter, headersOnly: true, ...(options.start ? { start: options.start } : {}) },
    (m) => {
      const id = m.headers?.get(HEADERS.ceId);
      if (id) inScope.add(id);
    },
  );
  const vectors = new Map<string, number[]>();
  await scan(bus, STREAMS.EMBEDDINGS.name, { filter: EmbeddingComputed.subject(model) }, (m) => {
    if (m.headers?.get(HEADERS.ceSource) !== REPLAY_SOURCE) return;
    const event = m.json<EmbeddingComputed>();
    if (inScope.has(event.sourceEventId)) vectors.set(event.sourceEventId, event.vector);
  });
  const live = new Map<string, Live>();
  await scan(bus, STREAMS.SPEAKERS.name, { filter: SpeakerIdentified.subject() }, (m) => {
    const e = m.json<SpeakerIdentified>();
    if (!vectors.has(e.sourceEventId)) return;
    live.set(e.sourceEventId, {
      speakerId: e.decision === "known" ? e.speaker?.id : undefined,
      name: e.speaker?.name,
      score: e.score,
      threshold: e.threshold,
      model: modelKey(e.model),
    });
  });

  const policy = policyFor(modelKey(model), options.policyOverrides);
  const voiceprints = await readVoiceprints(bus, model);
  const acc = new Map<string | null, Acc>();
  const overall = newAcc();
  for (const s of options.speakers) acc.set(s.id, newAcc());
  for (const [eventId, vector] of vectors) {
    const was = live.get(eventId);
    if (was === undefined) continue;
    const now = decide(rank(vector, voiceprints), policy, 1);
    const key = was.speakerId ?? null;
    let row = acc.get(key);
    if (row === undefined) {
      row = newAcc();
      acc.set(key, row);
    }
    const nowId = now.decision === "known" ? now.speakerId : undefined;
    const nowScore = now.score ?? 0;
    for (const a of [row, overall]) {
      a.events += 1;
      if (nowId === was.speakerId) a.agreed += 1;
      else if (nowId === undefined) a.becameUnknown += 1;
      else if (was.speakerId === undefined) a.becameKnown += 1;
      else a.becameOther += 1;
      a.shift += nowScore - was.score;
      a.marginShift += nowScore - policy.threshold - (was.score - was.threshold);
    }
  }
  const names = new Map(options.speakers.map((s) => [s.id, s.name]));
  for (const l of live.values())
    if (l.speakerId && l.name && !names.has(l.speakerId)) names.set(l.speakerId, l.name);
  const rows = [...acc.entries()]
    .map(([speakerId, a]) => ({
      speakerId,
      name: speakerId === null ? "(unknown)" : (names.get(speakerId) ?? speakerId),
      ...finish(a),
    }))
    .sort((a, b) => (a.speakerId === null ? 1 : b.speakerId === null ? -1 : a.name.localeCompare(b.name)));
  return {
    model,
    liveModels: [...new Set([...live.values()].map((l) => l.model))].sort(),
    threshold: policy.threshold,
    margin: policy.margin,
    replayed: vectors.size,
    compared: overall.events,
    withoutLiveDecision: vectors.size - overall.events,
    rows,
    overall: finish(overall),
  };
}

interface Acc {
  events: number;
  agreed: number;
  becameUnknown: number;
  becameOther: number;
  becameKnown: number;
  shift: number;
  marginShift: number;
}

function newAcc(): Acc {
  return { events: 0, agreed: 0, becameUnknown: 0, becameOther: 0, becameKnown: 0, shift: 0, marginShift: 0 };
}

function finish(a: Acc): Omit<ReportRow, "speakerId" | "name"> {
  const mean = (x: number) => (a.events === 0 ? null : x / a.events);
  return {
    events: a.events,
    agreed: a.agreed,
    agreement: mean(a.agreed),
    meanScoreShift: mean(a.shift),
    meanMarginShift: mean(a.marginShift),
    becameUnknown: a.becameUnknown,
    becameOther: a.becameOther,
    becameKnown: a.becameKnown,
  };
}
