/**
 * The chaos runner's one source of randomness. Everything a run decides (tasks, batch sizes, which
 * fault when, with what parameters, the engine's jitter, the simulator's seed) comes from streams
 * forked off one printed seed, so `--seed N` replays the same schedule. Wall-clock timing still
 * varies between runs; a timing-dependent failure may need a few replays of its seed.
 */
import { Rng } from "../../src/sim/rng.js";

/** The simulator's mulberry32 stream, with what a schedule needs on top. */
export class SeededRng extends Rng {
  /** Uniform in [min, max). */
  between(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("pick from an empty list");
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** A key by weight: `{ a: 3, b: 1 }` gives "a" three times as often as "b". */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as Array<[K, number]>;
    const total = entries.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [k, w] of entries) {
      r -= w;
      if (r < 0) return k;
    }
    return (entries[entries.length - 1] as [K, number])[0];
  }

  /** An independent stream for one purpose, derived from this seed and a label (FNV-1a). */
  fork(label: string): SeededRng {
    let h = 0x811c9dc5 ^ this.state;
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
    return new SeededRng(h >>> 0);
  }

  /** A UUID v4 from this stream (so a replayed seed sends the same taskUUIDs). */
  uuid(): string {
    const hex: string[] = [];
    for (let i = 0; i < 32; i++) hex.push(Math.floor(this.next() * 16).toString(16));
    hex[12] = "4";
    hex[16] = (Math.floor(this.next() * 4) + 8).toString(16);
    const s = hex.join("");
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }
}

/** A fresh seed when none is given: printed, so the run can be replayed. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 0x7fff_ffff) + 1;
}
