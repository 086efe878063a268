import { useEffect, useState } from "preact/hooks";
import { api, type ErrorPayload, errorOf } from "../api.js";
import { DetChart, Histogram } from "../charts.js";
import { ErrorBox, score, when } from "../ui.js";

interface ModelCalibration {
  modelKey: string;
  live: boolean;
  threshold: number;
  margin: number;
  scale: string;
  source: string;
  eer?: number;
  det?: { threshold: number; far: number; frr: number }[];
  histogram?: { edges: number[]; genuine: number[]; impostor: number[] };
  computedAt?: string;
  note?: string;
}
interface View {
  models: ModelCalibration[];
  canRecalibrate: boolean;
}

const SOURCES: Record<string, string> = {
  policy: "the model's built-in policy (or SPEAKERS_POLICY)",
  defaults: "the model's defaults (not calibrated yet)",
  calibration: "this household's calibration",
};

export function CalibrationPage() {
  const [view, setView] = useState<View>();
  const [error, setError] = useState<ErrorPayload>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api<View>("GET", "/api/calibration").then(setView, (e) => setError(errorOf(e)));
  }, []);
  const recalibrate = async () => {
    setBusy(true);
    try {
      setView(await api<View>("POST", "/api/calibration/recalibrate"));
      setError(undefined);
    } catch (err) {
      setError(errorOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section>
      <ErrorBox error={error} />
      {view === undefined ? <p class="loading">Loading…</p> : null}
      {view?.models.length === 0 ? <p class="muted">The registry reports no model policy yet.</p> : null}
      {view?.models.map((m) => (
        <article class="card model" key={m.modelKey} data-model={m.modelKey}>
          <h3>
            {m.modelKey} {m.live ? <span class="badge">live</span> : null}
          </h3>
          <dl>
            <dt>Threshold</dt>
            <dd class="threshold">{score(m.threshold)}</dd>
            <dt>Margin</dt>
            <dd class="margin">{score(m.margin)}</dd>
            <dt>Scale</dt>
            <dd>{m.scale}</dd>
            <dt>From</dt>
            <dd>{SOURCES[m.source] ?? m.source}</dd>
            {m.eer !== undefined ? (
              <>
                <dt>Equal error rate</dt>
                <dd>{(m.eer * 100).toFixed(1)} %</dd>
              </>
            ) : null}
            {m.computedAt ? (
              <>
                <dt>Computed</dt>
                <dd>{when(m.computedAt)}</dd>
              </>
            ) : null}
          </dl>
          {m.note ? <p class="muted">{m.note}</p> : null}
          {m.det && m.det.length > 0 ? <DetChart points={m.det} /> : null}
          {m.histogram ? <Histogram histogram={m.histogram} threshold={m.threshold} /> : null}
          {!m.det && !m.histogram ? (
            <p class="muted">
              No DET curve or score histogram yet: this registry does not calibrate on the household's data.
            </p>
          ) : null}
        </article>
      ))}
      <button type="button" onClick={recalibrate} disabled={!view?.canRecalibrate || busy}>
        {busy ? "Recalibrating…" : "Recalibrate from the household's samples"}
      </button>
      {view && !view.canRecalibrate ? (
        <p class="muted">This registry has no calibrate endpoint yet.</p>
      ) : null}
    </section>
  );
}
