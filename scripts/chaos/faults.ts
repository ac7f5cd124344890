/**
 * The faults of a chaos run: planned from the seed (kind, parameters, and the moment, as a number of
 * settled tasks so faults are spread over the run whatever the machine's speed), applied to the
 * simulator or the TCP proxy one after the other, and lifted. Each application is recorded with its
 * timestamps; detection and recovery times are read off the engine's state timeline afterwards.
 */
import type { SimServer } from "../../src/sim/index.js";
import { GARBAGE_TEXTS, PERMANENT_CODES, TRANSIENT_CODES, detectionBoundMs, type ChaosConfig, type FaultKind } from "./config.js";
import type { TcpProxy } from "./proxy.js";
import type { SeededRng } from "./rng.js";

export interface FaultPlan {
  kind: FaultKind;
  /** Apply once this many tasks have settled. */
  atSettled: number;
  params: Record<string, number | string>;
}

export interface FaultRecord extends FaultPlan {
  injectedAt: number;
  liftedAt: number;
  /** Injected → the engine dropped the link (state `backoff`), when it did. */
  detectMs?: number;
  /** The link was ready again this long after the fault was lifted (or after the drop, for a cut). */
  recoverMs?: number;
  /** Why the engine dropped the link (its own words). */
  dropReason?: string;
  /** The link's state when the fault hit (a fault during a reconnect is detected differently). */
  linkAtInjection?: string;
}

export interface Targets {
  sim: SimServer;
  proxy: TcpProxy;
}

/** The engine's state changes and readies, timestamped: what detection and recovery are read from. */
export interface Timeline {
  states: Array<{ t: number; to: string; reason: string }>;
  readies: Array<{ t: number; resumed: boolean; sessionUUID: string }>;
}

export type FaultConfig = Pick<
  ChaosConfig,
  | "faults"
  | "tasks"
  | "faultWeights"
  | "faultGapMs"
  | "freezeMs"
  | "slowAuthMs"
  | "slowAuthHoldMs"
  | "latencyMs"
  | "latencyHoldMs"
  | "engine"
  | "detectionSlackMs"
>;

/** `cfg.faults` faults, one per equal slice of the first 90% of the run, at a seeded point in it. */
export function planFaults(rng: SeededRng, cfg: FaultConfig): FaultPlan[] {
  const span = cfg.tasks * 0.9;
  return Array.from({ length: cfg.faults }, (_, i) => {
    const kind = rng.weighted(cfg.faultWeights);
    const atSettled = Math.floor(((i + rng.between(0.1, 0.9)) * span) / cfg.faults);
    return { kind, atSettled, params: paramsFor(kind, rng, cfg) };
  });
}

export function paramsFor(kind: FaultKind, rng: SeededRng, cfg: FaultConfig): Record<string, number | string> {
  const range = (r: readonly [number, number]) => Math.round(rng.between(r[0], r[1]));
  const none = () => ({});
  // One entry per kind (the type makes a new kind fail to compile here); only the chosen one draws from rng.
  const byKind: Record<FaultKind, () => Record<string, number | string>> = {
    simFreeze: () => ({ holdMs: range(cfg.freezeMs) }),
    proxyFreeze: () => ({ holdMs: range(cfg.freezeMs) }),
    proxyReplace: none,
    slowAuth: () => ({ delayMs: range(cfg.slowAuthMs), holdMs: range(cfg.slowAuthHoldMs) }),
    failAuths: () => ({ n: rng.int(1, 3), mode: rng.pick(["drop", "error"] as const) }),
    transient: () => ({ code: rng.pick(TRANSIENT_CODES), count: rng.int(1, 4) }),
    permanent: () => ({ code: rng.pick(PERMANENT_CODES), count: rng.int(1, 3) }),
    garbage: () => ({ text: rng.pick(GARBAGE_TEXTS) }),
    latency: () => ({ ms: range(cfg.latencyMs), holdMs: range(cfg.latencyHoldMs) }),
    cut: none,
    cutForget: none,
    proxyCut: none,
  };
  return byKind[kind]();
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Kinds that take the link down (or may), so detection and recovery are measured for them. */
const LINK_FAULTS: ReadonlySet<FaultKind> = new Set([
  "cut",
  "cutForget",
  "simFreeze",
  "proxyFreeze",
  "proxyReplace",
  "proxyCut",
  "slowAuth",
  "failAuths",
]);
/** Kinds that silence the link without closing it: only the heartbeat can notice. */
export const FREEZE_FAULTS: ReadonlySet<FaultKind> = new Set(["simFreeze", "proxyFreeze", "proxyReplace"]);

/** Apply one fault and resolve once it is lifted. */
export async function applyFault(f: FaultPlan, t: Targets, cfg: FaultConfig, timeline: Timeline): Promise<void> {
  const p = f.params;
  switch (f.kind) {
    case "cut":
      t.sim.cutAll();
      return;
    case "cutForget":
      t.sim.forgetSessions();
      t.sim.cutAll();
      return;
    case "simFreeze":
      t.sim.freeze();
      await sleep(Number(p["holdMs"]));
      t.sim.unfreeze();
      return;
    case "proxyFreeze":
      t.proxy.freeze();
      await sleep(Number(p["holdMs"]));
      t.proxy.unfreeze();
      return;
    case "proxyReplace": {
      // Frozen until the heartbeat gives up on the link, then the dead connections are replaced.
      const from = timeline.states.length;
      t.proxy.freeze();
      const limit = performance.now() + detectionBoundMs(cfg.engine) + cfg.detectionSlackMs;
      while (performance.now() < limit && !timeline.states.slice(from).some((s) => s.to === "backoff")) await sleep(5);
      t.proxy.cut();
      t.proxy.unfreeze();
      return;
    }
    case "proxyCut":
      t.proxy.cut();
      return;
    case "slowAuth":
      t.sim.setAuthDelay(Number(p["delayMs"]));
      t.sim.cutAll();
      await sleep(Number(p["holdMs"]));
      t.sim.setAuthDelay(0);
      return;
    case "failAuths":
      t.sim.failNextAuths(Number(p["n"]), p["mode"] === "error" ? "error" : "drop");
      t.sim.cutAll();
      return;
    case "transient":
    case "permanent":
      t.sim.injectErrors({ code: String(p["code"]), count: Number(p["count"]) });
      return;
    case "garbage":
      t.sim.sendGarbage(String(p["text"]));
      return;
    case "latency":
      t.sim.setLatency(Number(p["ms"]));
      await sleep(Number(p["holdMs"]));
      t.sim.setLatency(0);
  }
}

export interface InjectorProgress {
  /** Resolves once `n` tasks have settled, or the workload is over. */
  whenSettled(n: number): Promise<void>;
}

/** Apply the plan in order, each at its moment; stops early when `stopped()` turns true. */
export async function injectFaults(
  plans: readonly FaultPlan[],
  targets: Targets,
  cfg: FaultConfig,
  timeline: Timeline,
  progress: InjectorProgress,
  stopped: () => boolean,
): Promise<FaultRecord[]> {
  const done: FaultRecord[] = [];
  for (const plan of plans) {
    await progress.whenSettled(plan.atSettled);
    if (stopped()) break;
    const injectedAt = performance.now();
    await applyFault(plan, targets, cfg, timeline);
    done.push({ ...plan, injectedAt, liftedAt: performance.now() });
    await sleep(cfg.faultGapMs);
  }
  return done;
}

/** Undo anything a fault may have left switched on (the run is ending). */
export function liftAll(t: Targets): void {
  t.sim.unfreeze();
  t.proxy.unfreeze();
  t.sim.setAuthDelay(0);
  t.sim.setLatency(0);
  t.sim.failNextAuths(0, "drop");
  t.sim.clearErrors();
}

/** Fill in detection and recovery times from the engine's timeline. */
export function measure(records: FaultRecord[], timeline: Timeline): void {
  records.forEach((r, i) => {
    r.linkAtInjection = [...timeline.states].reverse().find((s) => s.t <= r.injectedAt)?.to ?? "connecting";
    if (!LINK_FAULTS.has(r.kind)) return;
    const end = records[i + 1]?.injectedAt ?? Number.POSITIVE_INFINITY;
    const drop = timeline.states.find((s) => s.to === "backoff" && s.t >= r.injectedAt && s.t < end);
    if (!drop) return;
    r.detectMs = drop.t - r.injectedAt;
    r.dropReason = drop.reason;
    const from = Math.max(drop.t, r.liftedAt);
    const ready = timeline.readies.find((x) => x.t >= from);
    if (ready) r.recoverMs = ready.t - from;
  });
}
