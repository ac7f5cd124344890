/**
 * What the pressure phase watches while it loads the daemon: its RSS from /proc (sampled, and the
 * kernel's high-water mark), how long `GET /v1/status` takes (polled the whole time by a worker
 * thread, status-poller.ts), and the daemon's own memory breakdown written by mem-probe.ts. Both
 * write JSON lines to files in `dir`; every figure is kept per stage.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Worker } from "node:worker_threads";
import type { ProbeSample } from "./mem-probe.js";
import { peakRssBytes, rssBytes, sleep, waitUntil } from "./procs.js";
import type { Poll, PollerConfig } from "./status-poller.js";

export interface StageWatch {
  /** Largest VmRSS sampled during the stage. */
  peakRssBytes: number;
  /** VmHWM at the stage's end: the peak of the whole run so far, samples missed included. */
  hwmBytes: number;
  statusPolls: number;
  slowestStatusMs: number;
  /** Status polls that got no 200 (counted, and their time still counts as latency). */
  statusFailures: number;
  /** The daemon's own breakdown at its largest RSS sample in the stage (mem-probe.ts), if any. */
  atPeak?: ProbeSample;
  /** Its breakdown right after a forced full GC at the stage's plateau (`PressureWatch.liveNow`). */
  live?: ProbeSample;
  fromMs: number;
  toMs: number;
}

interface Bucket {
  name: string;
  fromMs: number;
  peakRss: number;
  live?: ProbeSample;
}

export class PressureWatch {
  private readonly buckets: Bucket[] = [];
  private readonly results = new Map<string, StageWatch>();
  private running = true;
  private readonly sampler: Promise<void>;
  private readonly poller: Worker;
  private readonly pollFile: string;
  private stopped: Promise<Map<string, StageWatch>> | undefined;

  constructor(
    private readonly pid: number,
    socket: string,
    /** The file mem-probe.ts writes in the daemon (RW_BENCH_PROBE). */
    private readonly probeFile: string,
    o: { rssEveryMs: number; statusEveryMs: number; statusTimeoutMs: number },
  ) {
    this.sampler = this.sampleRss(o.rssEveryMs);
    this.pollFile = join(dirname(probeFile), "status-polls.jsonl");
    const config: PollerConfig = { socket, file: this.pollFile, everyMs: o.statusEveryMs, timeoutMs: o.statusTimeoutMs };
    this.poller = new Worker(new URL("./status-poller.js", import.meta.url), { workerData: config });
  }

  /**
   * Asks the daemon for a sample after a full GC (mem-probe.ts, SIGUSR2), once its load is at its
   * plateau: what it holds, as against what it has not collected yet. Waits until it is written.
   */
  async liveNow(): Promise<void> {
    const lives = () => readLines<ProbeSample>(this.probeFile).filter((p) => p.live);
    const before = lives().length;
    process.kill(this.pid, "SIGUSR2");
    await waitUntil("the daemon's live-heap sample", () => lives().length > before);
    const b = this.current;
    if (b) b.live = lives()[before];
  }

  /** Ends the current stage (if any) and starts `name`. */
  stage(name: string): void {
    this.closeCurrent();
    this.buckets.push({ name, fromMs: Date.now(), peakRss: 0 });
  }

  /** Stops both loops; resolves with every stage's figures. Safe to call more than once. */
  stop(): Promise<Map<string, StageWatch>> {
    this.stopped ??= this.finish();
    return this.stopped;
  }

  private async finish(): Promise<Map<string, StageWatch>> {
    this.running = false;
    await Promise.all([this.poller.terminate(), this.sampler]);
    this.closeCurrent();
    const probe = readLines<ProbeSample>(this.probeFile);
    const polls = readLines<Poll>(this.pollFile);
    for (const w of this.results.values()) {
      const mine = polls.filter((p) => p.t >= w.fromMs && p.t < w.toMs);
      w.statusPolls = mine.length;
      w.slowestStatusMs = Math.max(0, ...mine.map((p) => p.ms));
      w.statusFailures = mine.filter((p) => p.code !== 200).length;
      const inStage = probe.filter((p) => p.t >= w.fromMs && p.t <= w.toMs);
      const top = inStage.filter((p) => !p.live).reduce<ProbeSample | undefined>((a, p) => (!a || p.rss > a.rss ? p : a), undefined);
      if (top) w.atPeak = top;
    }
    return this.results;
  }

  private get current(): Bucket | undefined {
    return this.buckets[this.buckets.length - 1];
  }

  private closeCurrent(): void {
    const b = this.current;
    if (!b || this.results.has(b.name)) return;
    let hwm = 0;
    try {
      hwm = peakRssBytes(this.pid);
    } catch {
      // The daemon is gone; its samples stand.
    }
    this.results.set(b.name, {
      peakRssBytes: b.peakRss,
      hwmBytes: hwm,
      statusPolls: 0,
      slowestStatusMs: 0,
      statusFailures: 0,
      fromMs: b.fromMs,
      toMs: Date.now(),
      ...(b.live ? { live: b.live } : {}),
    });
  }

  private async sampleRss(everyMs: number): Promise<void> {
    while (this.running) {
      try {
        const rss = rssBytes(this.pid);
        const b = this.current;
        if (b) b.peakRss = Math.max(b.peakRss, rss);
      } catch {
        return;
      }
      await sleep(everyMs);
    }
  }
}

/** The JSON lines of `file`; a line cut by a writer stopped mid-write is skipped. */
function readLines<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  const out: T[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    try {
      if (line.trim() !== "") out.push(JSON.parse(line) as T);
    } catch {
      // the last line, half written
    }
  }
  return out;
}
