/**
 * Spend over time (issue 16): what finished tasks cost, in minute buckets for 48 hours and hour
 * buckets for 31 days, total and by label, with tasks that came back without a cost counted apart
 * (never as zero). Pure: times are passed in.
 *
 * A window's sum counts the whole bucket its start falls in, so it can include up to a minute (an
 * hour, for windows past 48 hours) of spend just outside it: for a budget, counting a little too
 * much is the safe side.
 */
import { roundUsd } from "../../protocol/cost.js";
import type { Uncosted } from "../../protocol/history.js";

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** Minute buckets cover windows up to this; longer ones use hour buckets. */
const FINE_SPAN_MS = 48 * HOUR;
const COARSE_SPAN_MS = 31 * 24 * HOUR;
/**
 * A window names at most this many labels, those that spent most; the rest are summed under
 * OTHER_LABELS. Labels are bounded per run (maxLabels), not across 30 days of restarts: the
 * status answer stays small whatever the journal holds.
 */
export const MAX_LABELS_SHOWN = 100;
export const OTHER_LABELS = "(other labels)";

export interface SpendItem {
  readonly at: number;
  readonly label: string;
  /** USD; undefined: the task reported none (`uncosted` says why). */
  readonly cost: number | undefined;
  readonly uncosted?: Uncosted | undefined;
}

export interface LabelSpend {
  usd: number;
  tasks: number;
}

/** Spend over one window, as `GET /v1/status` shows it. */
export interface SpendWindow {
  usd: number;
  /** Tasks with a cost. */
  tasks: number;
  /** Tasks that came back without one, by why (docs/local-api.md §2.10). */
  uncosted: Partial<Record<Uncosted, number>>;
  byLabel: Record<string, LabelSpend>;
}

interface Bucket {
  usd: number;
  tasks: number;
  uncosted: Partial<Record<Uncosted, number>>;
  byLabel: Map<string, LabelSpend>;
}

const emptyBucket = (): Bucket => ({ usd: 0, tasks: 0, uncosted: {}, byLabel: new Map() });

class Buckets {
  /** By bucket index (time / size), oldest first (insertion order: items come in time order, or nearly). */
  private readonly map = new Map<number, Bucket>();

  constructor(
    readonly size: number,
    private readonly span: number,
  ) {}

  /** `sign` -1 takes an item out again (an entry replaced: ledger.ts); its bucket may be gone already. */
  add(item: SpendItem, sign: 1 | -1): void {
    const index = Math.floor(item.at / this.size);
    let b = this.map.get(index);
    if (!b) {
      if (sign < 0) return;
      this.map.set(index, (b = emptyBucket()));
      this.dropOlderThan(item.at);
    }
    if (item.cost === undefined) {
      const why = item.uncosted ?? "unreported";
      b.uncosted[why] = (b.uncosted[why] ?? 0) + sign;
      return;
    }
    b.usd += sign * item.cost;
    b.tasks += sign;
    const l = b.byLabel.get(item.label) ?? { usd: 0, tasks: 0 };
    l.usd += sign * item.cost;
    l.tasks += sign;
    b.byLabel.set(item.label, l);
  }

  /** Buckets older than the span before `now` go (oldest first: the map is in time order, or nearly). */
  private dropOlderThan(now: number): void {
    const oldest = Math.floor((now - this.span) / this.size);
    for (const i of this.map.keys()) {
      if (i >= oldest) break;
      this.map.delete(i);
    }
  }

  /** Buckets from the one holding `from` on, oldest first; older than the span are dropped. */
  since(from: number, now: number): Array<[number, Bucket]> {
    const first = Math.floor(from / this.size);
    const oldest = Math.floor((now - this.span) / this.size);
    const out: Array<[number, Bucket]> = [];
    for (const [i, b] of this.map) {
      if (i < oldest) this.map.delete(i);
      else if (i >= first) out.push([i, b]);
    }
    return out.sort((a, b) => a[0] - b[0]);
  }
}

export class Spend {
  private readonly fine = new Buckets(MINUTE, FINE_SPAN_MS);
  private readonly coarse = new Buckets(HOUR, COARSE_SPAN_MS);

  add(item: SpendItem, sign: 1 | -1 = 1): void {
    this.fine.add(item, sign);
    this.coarse.add(item, sign);
  }

  /** Spend over the `windowMs` up to `now`. */
  window(now: number, windowMs: number): SpendWindow {
    const out: SpendWindow = { usd: 0, tasks: 0, uncosted: {}, byLabel: {} };
    for (const [, b] of this.bucketsOf(now, windowMs)) {
      out.usd += b.usd;
      out.tasks += b.tasks;
      for (const [why, n] of Object.entries(b.uncosted) as Array<[Uncosted, number]>) out.uncosted[why] = (out.uncosted[why] ?? 0) + n;
      for (const [label, l] of b.byLabel) {
        const t = (out.byLabel[label] ??= { usd: 0, tasks: 0 });
        t.usd += l.usd;
        t.tasks += l.tasks;
      }
    }
    out.usd = roundUsd(out.usd);
    out.byLabel = topLabels(out.byLabel);
    return out;
  }

  /**
   * When spend over the window falls below `capUsd` again if nothing more is spent: when enough of
   * its oldest buckets have left it. `now` if it is below already.
   */
  freesAt(now: number, windowMs: number, capUsd: number): number {
    const buckets = this.bucketsOf(now, windowMs);
    // Rounded as window() rounds, so it agrees with the refusal (0.7 + 0.1 reaches a cap of 0.8).
    let left = buckets.reduce((sum, [, b]) => sum + b.usd, 0);
    if (roundUsd(left) < capUsd) return now;
    const size = windowMs > FINE_SPAN_MS ? HOUR : MINUTE;
    for (const [i, b] of buckets) {
      left -= b.usd;
      if (roundUsd(left) < capUsd) return (i + 1) * size + windowMs;
    }
    return now + windowMs;
  }

  private bucketsOf(now: number, windowMs: number): Array<[number, Bucket]> {
    const from = now - windowMs;
    return windowMs > FINE_SPAN_MS ? this.coarse.since(from, now) : this.fine.since(from, now);
  }
}

/** The MAX_LABELS_SHOWN labels that spent most, the rest summed under OTHER_LABELS; each rounded. */
function topLabels(byLabel: Record<string, LabelSpend>): Record<string, LabelSpend> {
  const all = Object.entries(byLabel);
  const out: Record<string, LabelSpend> = {};
  const sorted = all.length > MAX_LABELS_SHOWN ? all.sort((a, b) => b[1].usd - a[1].usd) : all;
  for (const [i, [label, l]] of sorted.entries()) {
    if (i < MAX_LABELS_SHOWN) out[label] = { usd: roundUsd(l.usd), tasks: l.tasks };
    else {
      const o = (out[OTHER_LABELS] ??= { usd: 0, tasks: 0 });
      o.usd = roundUsd(o.usd + l.usd);
      o.tasks += l.tasks;
    }
  }
  return out;
}
