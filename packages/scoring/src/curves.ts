/** Error-rate curves over genuine and impostor scores (accept when score >= threshold). */

export interface DetPoint {
  readonly threshold: number;
  readonly far: number;
  readonly frr: number;
}

function sorted(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

/** How many values in an ascending array are strictly below t. */
export function countBelow(ascending: readonly number[], t: number): number {
  let lo = 0;
  let hi = ascending.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ascending[mid] ?? 0) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function ratesAt(genuine: readonly number[], impostor: readonly number[], t: number) {
  const g = sorted(genuine);
  const i = sorted(impostor);
  return {
    far: i.length === 0 ? 0 : (i.length - countBelow(i, t)) / i.length,
    frr: g.length === 0 ? 0 : countBelow(g, t) / g.length,
  };
}

/**
 * The lowest threshold whose false-accept rate over `impostor` is at most `targetFar`: the (1 - target)
 * quantile, taken as the next score above it so that exactly that share or fewer are accepted.
 */
export function thresholdForFar(impostor: readonly number[], targetFar: number): number {
  const i = sorted(impostor);
  if (i.length === 0) return Number.POSITIVE_INFINITY;
  const allowed = Math.floor(targetFar * i.length);
  // Accepting `allowed` impostors: the threshold sits just above the (allowed+1)-th highest score.
  const index = i.length - allowed - 1;
  const value = i[index] ?? Number.NEGATIVE_INFINITY;
  return value + 1e-9 * Math.max(1, Math.abs(value));
}

/** DET points by descending threshold, at most `points` of them, over every distinct score. */
export function detCurve(genuine: readonly number[], impostor: readonly number[], points = 200): DetPoint[] {
  const g = sorted(genuine);
  const i = sorted(impostor);
  const all = [...new Set([...g, ...i])].sort((a, b) => b - a);
  if (all.length === 0) return [];
  const step = Math.max(1, Math.ceil(all.length / points));
  const out: DetPoint[] = [];
  for (let k = 0; k < all.length && out.length < points; k += step) {
    const t = all[k] as number;
    out.push({
      threshold: t,
      far: i.length === 0 ? 0 : (i.length - countBelow(i, t)) / i.length,
      frr: g.length === 0 ? 0 : countBelow(g, t) / g.length,
    });
  }
  return out;
}

export function equalErrorRate(genuine: readonly number[], impostor: readonly number[]) {
  const g = sorted(genuine);
  const i = sorted(impostor);
  const thresholds = [...new Set([...g, ...i, Number.POSITIVE_INFINITY])];
  let best = { gap: Number.POSITIVE_INFINITY, eer: 1, threshold: Number.POSITIVE_INFINITY };
  for (const t of thresholds) {
    const frr = g.length === 0 ? 0 : countBelow(g, t) / g.length;
    const far = i.length === 0 ? 0 : (i.length - countBelow(i, t)) / i.length;
    const gap = Math.abs(far - frr);
    if (gap < best.gap) best = { gap, eer: (far + frr) / 2, threshold: t };
  }
  return { eer: best.eer, threshold: best.threshold };
}

export interface Histogram {
  readonly edges: number[];
  readonly genuine: number[];
  readonly impostor: number[];
}

export function histogram(genuine: readonly number[], impostor: readonly number[], bins = 40): Histogram {
  const all = [...genuine, ...impostor].filter(Number.isFinite);
  const lo = all.length === 0 ? 0 : Math.min(...all);
  const hi = all.length === 0 ? 1 : Math.max(...all);
  const width = (hi - lo || 1) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, k) => lo + k * width);
  const count = (xs: readonly number[]) => {
    const out = new Array<number>(bins).fill(0);
    for (const x of xs) {
      if (!Number.isFinite(x)) continue;
      const k = Math.min(bins - 1, Math.max(0, Math.floor((x - lo) / width)));
      out[k] = (out[k] ?? 0) + 1;
    }
    return out;
  };
  return { edges, genuine: count(genuine), impostor: count(impostor) };
}

/** Logistic fit P(genuine | score) = 1 / (1 + exp(-(a s + b))) by Newton's method, classes weighted equally. */
export function fitLogistic(
  genuine: readonly number[],
  impostor: readonly number[],
): { a: number; b: number } {
  if (genuine.length === 0 || impostor.length === 0) return { a: 1, b: 0 };
  const wg = 0.5 / genuine.length;
  const wi = 0.5 / impostor.length;
  let a = 1;
  let b = 0;
  for (let iter = 0; iter < 50; iter++) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-6;
    let hab = 0;
    let hbb = 1e-6;
    const step = (s: number, y: number, w: number) => {
      const p = 1 / (1 + Math.exp(-(a * s + b)));
      const r = (p - y) * w;
      ga += r * s;
      gb += r;
      const h = p * (1 - p) * w;
      haa += h * s * s;
      hab += h * s;
      hbb += h;
    };
    for (const s of genuine) step(s, 1, wg);
    for (const s of impostor) step(s, 0, wi);
    // A small ridge keeps perfectly separated data from running the slope off to infinity.
    ga += 1e-3 * a;
    haa += 1e-3;
    const det = haa * hbb - hab * hab;
    if (!(Math.abs(det) > 1e-12)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a -= da;
    b -= db;
    if (Math.abs(da) + Math.abs(db) < 1e-9) break;
  }
  return { a, b };
}
