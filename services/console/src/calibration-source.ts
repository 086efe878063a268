/**
 * Where the Calibration page's data comes from, in one place. Today: the decision policy the registry reports
 * in its `$SRV.STATS` (threshold and margin of the live model). The household calibration contract (ADR 0003,
 * `speakers.registry.calibration.get` / `speakers.registry.calibrate`) is being built on another branch; this
 * module asks for it by subject and, when a registry answers, passes its record (DET points, score histogram,
 * per-duration thresholds) through. When that contract is merged, swap the two raw requests below for
 * `call(bus, SERVICES.registry.endpoints.calibrationGet | calibrate, { request: CalibrationGetRequest |
 * CalibrateRequest, reply: CalibrationReply })`; the shape below is the subset of CalibrationReply the page reads.
 */
import { type Bus, request } from "@speakers/bus";
import { isSpeakersError, SERVICES } from "@speakers/events";
import type { SystemInfo } from "./system-info.js";

const CALIBRATION_GET = `${SERVICES.registry.prefix}.calibration.get`;
const CALIBRATE = `${SERVICES.registry.prefix}.calibrate`;

export interface ModelCalibration {
  modelKey: string;
  live: boolean;
  threshold: number;
  margin: number;
  scale: string;
  /** `policy`: the registry's built-in (or configured) rule; `calibration`: the household's calibration. */
  source: "policy" | "calibration" | "defaults";
  eer?: number;
  det?: { threshold: number; far: number; frr: number }[];
  histogram?: { edges: number[]; genuine: number[]; impostor: number[] };
  computedAt?: string;
  note?: string;
}

export interface CalibrationView {
  models: ModelCalibration[];
  /** Whether the registry offers the calibrate endpoint (the button is disabled otherwise). */
  canRecalibrate: boolean;
}

interface CalibrationReplyLike {
  model: { id: string; revision: string };
  calibration?: {
    scale: string;
    eer: number;
    det: { threshold: number; far: number; frr: number }[];
    histogram: { edges: number[]; genuine: number[]; impostor: number[] };
    computedAt: string;
    status: string;
    note?: string;
  };
  inUse: { scale: string; threshold: number; margin: number; source: "calibration" | "defaults" };
}

interface RegistryPolicyStats {
  liveModel?: string;
  policy?: Record<string, { threshold: number; margin: number }>;
}

export function createCalibrationSource(bus: Bus, system: SystemInfo) {
  const fromStats = async (): Promise<ModelCalibration[]> => {
    const snap = await system.snapshot();
    const registry = snap.services[SERVICES.registry.name]?.[0];
    const data = (registry?.data ?? {}) as RegistryPolicyStats;
    return Object.entries(data.policy ?? {}).map(([modelKey, p]) => ({
      modelKey,
      live: modelKey === data.liveModel,
      threshold: p.threshold,
      margin: p.margin,
      scale: "cosine",
      source: "policy" as const,
    }));
  };

  const fromCalibration = async (): Promise<ModelCalibration | undefined> => {
    try {
      const msg = await request(bus, CALIBRATION_GET, "{}", { timeoutMs: 5_000 });
      const reply = msg.json<CalibrationReplyLike>();
      const c = reply.calibration;
      return {
        modelKey: `${reply.model.id}@${reply.model.revision}`,
        live: true,
        threshold: reply.inUse.threshold,
        margin: reply.inUse.margin,
        scale: reply.inUse.scale,
        source: reply.inUse.source,
        ...(c ? { eer: c.eer, det: c.det, histogram: c.histogram, computedAt: c.computedAt } : {}),
        ...(c?.note ? { note: c.note } : {}),
      };
    } catch (err) {
      // No registry serves calibration yet (WORKER_UNAVAILABLE: no responders): today's policy is the answer.
      if (isSpeakersError(err) && err.code === "WORKER_UNAVAILABLE") return undefined;
      throw err;
    }
  };

  return {
    async view(): Promise<CalibrationView> {
      const [policies, calibrated] = await Promise.all([fromStats(), fromCalibration()]);
      if (calibrated === undefined) return { models: policies, canRecalibrate: false };
      const others = policies.filter((p) => p.modelKey !== calibrated.modelKey);
      return { models: [calibrated, ...others], canRecalibrate: true };
    },
    async recalibrate(): Promise<CalibrationView> {
      await request(bus, CALIBRATE, "{}", { timeoutMs: 300_000 });
      return this.view();
    },
  };
}

export type CalibrationSource = ReturnType<typeof createCalibrationSource>;
