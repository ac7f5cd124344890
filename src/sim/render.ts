/**
 * Deterministic fake "generated" images for the simulator. The prompt picks the look (palette,
 * gradient direction, stripe style, how many circles) so different prompts are visibly different;
 * the seed moves things around (angles, stripe phase, circle placement) the way a real seed changes
 * a composition but not its subject. Same prompt + seed → byte-identical PNG, which lets tests
 * compare results across reconnects and retries.
 */
import { createHash } from "node:crypto";
import { encodePng } from "./png.js";

export interface RenderSpec {
  prompt: string;
  seed: number;
  width: number;
  height: number;
}

/** Tunables for the picture, in one place. */
export const RENDER_DEFAULTS = {
  /** Runware caps image width/height at 2048 (docs/protocol.md §8); refuse more to bound memory. */
  maxSide: 2048,
  /** Circles drawn over the background: the prompt picks a count in [min, min + spread). */
  minCircles: 2,
  circleSpread: 5,
  /** Circle radius as a fraction of the shorter side: [min, min + spread). */
  minRadius: 0.06,
  radiusSpread: 0.22,
  /** Circle opacity: [min, min + spread). */
  minCircleAlpha: 0.45,
  circleAlphaSpread: 0.45,
  /** Stripe count across the image diagonal: [min, min + spread). */
  minBands: 3,
  bandSpread: 14,
  /** How strongly the odd stripes are tinted with the accent colour. */
  bandAlpha: 0.35,
  /** Palette colours: saturation and value ranges for HSV, so colours are vivid and never black. */
  minSaturation: 0.45,
  saturationSpread: 0.5,
  minValue: 0.45,
  valueSpread: 0.55,
} as const;

const PALETTE_SIZE = 5;
const LUT_STEPS = 256;
type Rgb = readonly [number, number, number];

/** A small seeded PRNG (mulberry32): fast, and stable across Node versions unlike anything built in. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x100000000;
  };
}

function sha256(...parts: string[]): Buffer {
  const h = createHash("sha256");
  for (const p of parts) h.update(p).update("\0");
  return h.digest();
}

function hsvToRgb(h: number, s: number, v: number): Rgb {
  const i = Math.floor(h * 6);
  const f = h * 6 - i;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  const [r, g, b] = [
    [v, t, p],
    [q, v, p],
    [p, v, t],
    [p, q, v],
    [t, p, v],
    [v, p, q],
  ][i % 6]!;
  return [Math.round(r! * 255), Math.round(g! * 255), Math.round(b! * 255)];
}

/** Palette from the prompt: a base hue plus a prompt-chosen hue step, so schemes vary (analogous … complementary). */
function palette(rand: () => number): Rgb[] {
  const d = RENDER_DEFAULTS;
  const base = rand();
  const step = 0.08 + rand() * 0.5;
  const colors: Rgb[] = [];
  for (let i = 0; i < PALETTE_SIZE; i++) {
    colors.push(hsvToRgb((base + i * step) % 1, d.minSaturation + rand() * d.saturationSpread, d.minValue + rand() * d.valueSpread));
  }
  return colors;
}

/** 256-step colour ramp from `a` to `b`, optionally tinted towards `tint`. */
function ramp(a: Rgb, b: Rgb, tint?: Rgb, tintAlpha = 0): Uint8Array {
  const lut = new Uint8Array(LUT_STEPS * 3);
  for (let i = 0; i < LUT_STEPS; i++) {
    const t = i / (LUT_STEPS - 1);
    for (let c = 0; c < 3; c++) {
      let v = a[c]! + (b[c]! - a[c]!) * t;
      if (tint) v += (tint[c]! - v) * tintAlpha;
      lut[i * 3 + c] = Math.round(v);
    }
  }
  return lut;
}

function checkSide(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1 || v > RENDER_DEFAULTS.maxSide) {
    throw new RangeError(`render ${name} must be an integer in 1..${RENDER_DEFAULTS.maxSide}, got ${v}`);
  }
}

/** Raw RGB pixels (row-major, 3 bytes a pixel). Exported for tests and for callers that want other encodings. */
export function renderPixels(spec: RenderSpec): Buffer {
  const { width: w, height: h } = spec;
  checkSide("width", w);
  checkSide("height", h);
  const d = RENDER_DEFAULTS;

  const promptHash = sha256(spec.prompt);
  const look = mulberry32(promptHash.readUInt32LE(0)); // the prompt's style
  const place = mulberry32(sha256(promptHash.toString("hex"), String(spec.seed)).readUInt32LE(0)); // the seed's layout

  const colors = palette(look);
  const [c0, c1, c2] = [colors[0]!, colors[1]!, colors[2]!];
  const plain = ramp(c0, c1);
  const tinted = ramp(c0, c1, c2, d.bandAlpha);
  const bands = d.minBands + Math.floor(look() * d.bandSpread);
  const circleCount = d.minCircles + Math.floor(look() * d.circleSpread);

  // Background: a linear gradient (c0 → c1) crossed by stripes tinted with c2, each at a seed-chosen angle.
  const ga = place() * 2 * Math.PI;
  const ba = place() * 2 * Math.PI;
  const phase = place();
  const diag = Math.hypot(w, h);
  const gx = Math.cos(ga) / diag;
  const gy = Math.sin(ga) / diag;
  const gMin = Math.min(0, w * gx) + Math.min(0, h * gy); // shift so t lands in 0..1
  const bandScale = bands / diag;
  const bx = Math.cos(ba) * bandScale;
  const by = Math.sin(ba) * bandScale;

  const px = Buffer.allocUnsafe(w * h * 3);
  const top = LUT_STEPS - 1;
  let o = 0;
  for (let y = 0; y < h; y++) {
    let t = y * gy - gMin;
    let s = y * by + phase + bands; // + bands keeps s positive so `| 0` floors
    for (let x = 0; x < w; x++, t += gx, s += bx) {
      const lut = (s | 0) & 1 ? tinted : plain;
      let i = (t * top + 0.5) | 0;
      i = (i < 0 ? 0 : i > top ? top : i) * 3;
      px[o++] = lut[i]!;
      px[o++] = lut[i + 1]!;
      px[o++] = lut[i + 2]!;
    }
  }

  // Circles in palette colours; only the rows and columns each one covers are touched.
  const short = Math.min(w, h);
  for (let k = 0; k < circleCount; k++) {
    const color = colors[k % PALETTE_SIZE]!;
    const alpha = d.minCircleAlpha + place() * d.circleAlphaSpread;
    const r = short * (d.minRadius + place() * d.radiusSpread);
    const cx = place() * w;
    const cy = place() * h;
    const y0 = Math.max(0, Math.ceil(cy - r));
    const y1 = Math.min(h - 1, Math.floor(cy + r));
    for (let y = y0; y <= y1; y++) {
      const half = Math.sqrt(r * r - (y - cy) * (y - cy));
      const x0 = Math.max(0, Math.ceil(cx - half));
      const x1 = Math.min(w - 1, Math.floor(cx + half));
      for (let x = x0, p = (y * w + x0) * 3; x <= x1; x++) {
        for (let c = 0; c < 3; c++, p++) px[p] = px[p]! + (color[c]! - px[p]!) * alpha;
      }
    }
  }
  return px;
}

/** A deterministic PNG for a prompt and seed. */
export function renderImage(spec: RenderSpec): Buffer {
  return encodePng(spec.width, spec.height, renderPixels(spec));
}
