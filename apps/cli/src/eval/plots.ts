/** `speakers eval --plots DIR`: a DET curve and a score histogram as small, dependency-free SVG files. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { detCurve, histogram } from "@speakers/scoring";

const W = 520;
const H = 360;
const PAD = 48;

function frame(title: string, xLabel: string, yLabel: string, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${title}</text>
<line x1="${PAD}" y1="${H - PAD}" x2="${W - PAD / 2}" y2="${H - PAD}" stroke="black"/>
<line x1="${PAD}" y1="${PAD}" x2="${PAD}" y2="${H - PAD}" stroke="black"/>
<text x="${W / 2}" y="${H - 12}" text-anchor="middle">${xLabel}</text>
<text x="14" y="${H / 2}" text-anchor="middle" transform="rotate(-90 14 ${H / 2})">${yLabel}</text>
${body}
</svg>
`;
}

const fmt = (x: number) => x.toFixed(1);

/** FAR against FRR on probit-free percentage axes (0-50 %), with the operating point marked. */
export function detSvg(
  genuine: readonly number[],
  impostor: readonly number[],
  operating: { far: number; frr: number },
) {
  const max = 0.5;
  const x = (far: number) => PAD + (Math.min(far, max) / max) * (W - 1.5 * PAD);
  const y = (frr: number) => H - PAD - (Math.min(frr, max) / max) * (H - 2 * PAD);
  const points = detCurve(genuine, impostor, 200)
    .map((p) => `${fmt(x(p.far))},${fmt(y(p.frr))}`)
    .join(" ");
  const ticks = [0, 0.1, 0.2, 0.3, 0.4, 0.5]
    .map(
      (t) =>
        `<text x="${fmt(x(t))}" y="${H - PAD + 16}" text-anchor="middle">${t * 100}%</text><text x="${PAD - 6}" y="${fmt(y(t) + 4)}" text-anchor="end">${t * 100}%</text>`,
    )
    .join("");
  const body = `${ticks}<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${points}"/>
<line x1="${fmt(x(0))}" y1="${fmt(y(0))}" x2="${fmt(x(max))}" y2="${fmt(y(max))}" stroke="#bbb" stroke-dasharray="4 4"/>
<circle cx="${fmt(x(operating.far))}" cy="${fmt(y(operating.frr))}" r="5" fill="#d62728"/>
<text x="${fmt(x(operating.far) + 8)}" y="${fmt(y(operating.frr) - 8)}">calibrated: FAR ${(operating.far * 100).toFixed(1)}%, FRR ${(operating.frr * 100).toFixed(1)}%</text>`;
  return frame("DET: open-set decision score (held-out strangers)", "false accepts", "false rejects", body);
}

export function histogramSvg(genuine: readonly number[], impostor: readonly number[], threshold: number) {
  const h = histogram(genuine, impostor, 40);
  const lo = h.edges[0] ?? 0;
  const hi = h.edges[h.edges.length - 1] ?? 1;
  const peak = Math.max(
    1,
    ...h.genuine.map((c) => c / Math.max(1, genuine.length)),
    ...h.impostor.map((c) => c / Math.max(1, impostor.length)),
  );
  const x = (v: number) => PAD + ((v - lo) / (hi - lo || 1)) * (W - 1.5 * PAD);
  const y = (share: number) => H - PAD - (share / peak) * (H - 2 * PAD);
  const bars = (counts: number[], total: number, colour: string) =>
    counts
      .map((c, k) => {
        const share = c / Math.max(1, total);
        const x0 = x(h.edges[k] ?? lo);
        const x1 = x(h.edges[k + 1] ?? hi);
        return `<rect x="${fmt(x0)}" y="${fmt(y(share))}" width="${fmt(Math.max(0.5, x1 - x0 - 1))}" height="${fmt(H - PAD - y(share))}" fill="${colour}" fill-opacity="0.55"/>`;
      })
      .join("");
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => lo + f * (hi - lo))
    .map((v) => `<text x="${fmt(x(v))}" y="${H - PAD + 16}" text-anchor="middle">${v.toFixed(2)}</text>`)
    .join("");
  const body = `${ticks}${bars(h.impostor, impostor.length, "#d62728")}${bars(h.genuine, genuine.length, "#1f77b4")}
<line x1="${fmt(x(threshold))}" y1="${PAD}" x2="${fmt(x(threshold))}" y2="${H - PAD}" stroke="black" stroke-dasharray="5 3"/>
<text x="${fmt(x(threshold) + 4)}" y="${PAD + 12}">threshold</text>
<rect x="${W - 170}" y="34" width="10" height="10" fill="#1f77b4"/><text x="${W - 155}" y="43">enrolled speaker (${genuine.length})</text>
<rect x="${W - 170}" y="50" width="10" height="10" fill="#d62728"/><text x="${W - 155}" y="59">stranger (${impostor.length})</text>`;
  return frame("Best-candidate score by who spoke", "score (calibrated scale)", "share of trials", body);
}

export function writePlots(
  dir: string,
  genuine: readonly number[],
  impostor: readonly number[],
  operating: { far: number; frr: number; threshold: number },
): string[] {
  mkdirSync(dir, { recursive: true });
  const det = join(dir, "det.svg");
  const hist = join(dir, "score-histogram.svg");
  const finite = (xs: readonly number[]) => xs.filter(Number.isFinite);
  writeFileSync(det, detSvg(genuine, impostor, operating));
  writeFileSync(hist, histogramSvg(finite(genuine), finite(impostor), operating.threshold));
  return [det, hist];
}
