/** Two small SVG charts for the Calibration page; no chart library needed for this much. */
const W = 320;
const H = 200;
const PAD = 32;

export function DetChart({ points }: { points: { threshold: number; far: number; frr: number }[] }) {
  const x = (far: number) => PAD + far * (W - PAD - 8);
  const y = (frr: number) => H - PAD - frr * (H - PAD - 8);
  const path = points
    .map((p, i) => `${i === 0 ? "M" : "L"}${x(p.far).toFixed(1)},${y(p.frr).toFixed(1)}`)
    .join(" ");
  return (
    <figure>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label="DET curve: false rejects against false accepts">
        <line x1={PAD} y1={H - PAD} x2={W - 8} y2={H - PAD} class="axis" />
        <line x1={PAD} y1={8} x2={PAD} y2={H - PAD} class="axis" />
        <line x1={PAD} y1={H - PAD} x2={W - 8} y2={8} class="guide" />
        <path d={path} class="curve" />
        <text x={W / 2} y={H - 6} class="label">
          false accepts
        </text>
        <text x={10} y={H / 2} class="label" transform={`rotate(-90 10 ${H / 2})`}>
          false rejects
        </text>
      </svg>
      <figcaption>DET curve of the household's own trials</figcaption>
    </figure>
  );
}

export function Histogram({
  histogram,
  threshold,
}: {
  histogram: { edges: number[]; genuine: number[]; impostor: number[] };
  threshold: number;
}) {
  const { edges, genuine, impostor } = histogram;
  const lo = edges[0] ?? 0;
  const hi = edges[edges.length - 1] ?? 1;
  const span = hi - lo || 1;
  const max = Math.max(1, ...genuine, ...impostor);
  const x = (v: number) => PAD + ((v - lo) / span) * (W - PAD - 8);
  const h = (n: number) => (n / max) * (H - PAD - 8);
  const bars = (counts: number[], cls: string) =>
    counts
      .map((n, i) => ({ n, from: edges[i] ?? lo, to: edges[i + 1] ?? hi }))
      .map(({ n, from, to }) => (
        <rect
          key={`${cls}${from}`}
          class={cls}
          x={x(from)}
          width={Math.max(1, x(to) - x(from) - 1)}
          y={H - PAD - h(n)}
          height={h(n)}
        />
      ));
  return (
    <figure>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label="Score histogram of same-speaker and different-speaker trials"
      >
        {bars(impostor, "impostor")}
        {bars(genuine, "genuine")}
        <line x1={x(threshold)} x2={x(threshold)} y1={8} y2={H - PAD} class="threshold" />
        <line x1={PAD} y1={H - PAD} x2={W - 8} y2={H - PAD} class="axis" />
        <text x={PAD} y={H - 12} class="label">
          {lo.toFixed(2)}
        </text>
        <text x={W - 40} y={H - 12} class="label">
          {hi.toFixed(2)}
        </text>
      </svg>
      <figcaption>
        Scores: <span class="key genuine">same speaker</span>{" "}
        <span class="key impostor">different speakers</span>, line = threshold
      </figcaption>
    </figure>
  );
}
