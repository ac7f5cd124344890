/**
 * The V8 heap limit the daemon runs under, derived from its byte budgets (docs/reliability.md, "The
 * arithmetic"). V8 sizes its heap from the machine (about 4 GB on 16 GB and more) and collects
 * lazily: under 2.5 GB of base64 results the heap held ~1 GB of garbage over 261 MiB live, and the
 * process passed 1.3 GB. With a limit near what the budgets can hold, V8 collects before it grows,
 * and live memory past the budgets' arithmetic would stop the process instead of growing it.
 * A limit can only be given as the process starts (`--max-old-space-size`), so the launchers
 * (`runware start`, auto-start, the systemd unit) pass it, and a daemon started without one says so.
 */
import { getHeapStatistics } from "node:v8";
import type { Settings } from "./settings.js";

const MiB = 1024 * 1024;

/** Node's own heap at rest and the room a collection needs to work in (the tests use 48 MiB: budget-rig.ts). */
const HEAP_BASE_MiB = 64;
/** One body is parsed at a time: its text, the parsed tasks and their encoding, each up to maxBodyBytes. */
const PARSE_COPIES = 3;
/** One frame from Runware is parsed at a time: its text and what it parses to. */
const FRAME_COPIES = 2;

/** V8's limit counts the young generation (~48 MiB on 64-bit) besides --max-old-space-size. */
const YOUNG_SLACK_MiB = 128;

type Budgets = Pick<Settings, "resultRetentionBytes" | "maxQueuedBytes" | "maxUnsentBytes" | "maxBodyBytes" | "maxUpstreamFrameBytes">;

/**
 * `--max-old-space-size` for a daemon with these settings, in MiB: what its budgets let live on the
 * heap at once. Bodies being read (maxReadingBytes) are Buffers, outside it.
 */
export function heapLimitMiB(s: Budgets): number {
  const bytes =
    s.resultRetentionBytes + s.maxQueuedBytes + s.maxUnsentBytes + PARSE_COPIES * s.maxBodyBytes + FRAME_COPIES * s.maxUpstreamFrameBytes;
  return HEAP_BASE_MiB + Math.ceil(bytes / MiB);
}

/** The node flag that gives a daemon with these settings its heap limit. */
export function heapFlag(s: Budgets): string {
  return `--max-old-space-size=${heapLimitMiB(s)}`;
}

/** The limit this process runs under, in MiB, and whether it is far above what its budgets need. */
export function heapCheck(s: Budgets): { limitMiB: number; wantMiB: number; unbounded: boolean } {
  const limitMiB = Math.round(getHeapStatistics().heap_size_limit / MiB);
  const wantMiB = heapLimitMiB(s);
  return { limitMiB, wantMiB, unbounded: limitMiB > wantMiB + YOUNG_SLACK_MiB };
}
