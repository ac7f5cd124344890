/** Least-squares trend of a series, for the soak's growth checks. */
export interface Trend {
  /** Change per minute. */
  slopePerMin: number;
  /** How much of the variation the line explains (0..1): a high slope with a low r² is noise. */
  r2: number;
}

/** Fit y = a + b·t (t in ms) and express b per minute. Fewer than 3 points: no trend. */
export function trend(points: ReadonlyArray<{ t: number; y: number }>): Trend {
  const n = points.length;
  if (n < 3) return { slopePerMin: 0, r2: 0 };
  const mt = points.reduce((s, p) => s + p.t, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let stt = 0;
  let sty = 0;
  let syy = 0;
  for (const p of points) {
    stt += (p.t - mt) ** 2;
    sty += (p.t - mt) * (p.y - my);
    syy += (p.y - my) ** 2;
  }
  if (stt === 0) return { slopePerMin: 0, r2: 0 };
  const b = sty / stt;
  return { slopePerMin: b * 60_000, r2: syy === 0 ? 0 : (sty * sty) / (stt * syy) };
}
