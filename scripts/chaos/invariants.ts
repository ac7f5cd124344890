/**
 * The guarantees of docs/local-api.md §3, as checks over what a chaos run recorded. Each check has a name
 * (the report groups violations by it) and says which guarantee it proves.
 *
 * How often one taskUUID may reach Runware (§3.3, §3.5), derived from the engine's policy:
 *   received ≤ 1 + retries + maxRecoveryResends + fresh
 * - 1: the first submission;
 * - retries: transient-error retries, each logged by the engine (≤ maxTaskRetries, checked too);
 * - maxRecoveryResends (an engine option, 2 by default): resends after getResponse answered "not
 *   found" for a task Runware never acknowledged (the engine stops there and reports it in doubt);
 * - fresh: authentications that got a fresh (not resumed) session while the task was alive; each
 *   makes the engine resubmit every task that was sent and not yet answered (engine.ts onReady).
 * And exactly `1 + retries` for a task whose life saw no link drop at all: nothing to recover.
 */
import type { RunwareErrorObject } from "../../src/errors.js";
import { isTransientCode } from "../../src/protocol/codes.js";
import type { SimCounters } from "../../src/sim/index.js";
import type { RetryRecord } from "./capture.js";
import { detectionBoundMs, type ChaosConfig } from "./config.js";
import { FREEZE_FAULTS, type FaultRecord, type Timeline } from "./faults.js";
import type { EngineRec, Ledger, TaskRec } from "./ledger.js";

/** Codes the engine itself ends a task with when it could not finish it: any of them is a loss here. */
const LOSS_CODES = new Set(["taskTimeout", "taskInDoubt", "taskAborted"]);
/** Examples kept per violated invariant (the count is always complete). */
const KEEP_EXAMPLES = 5;

export interface CheckInput {
  ledger: Ledger;
  counters: SimCounters;
  engine: ChaosConfig["engine"];
  retries: Map<string, RetryRecord[]>;
  /** Every error code a fault injected during the run. */
  injectedCodes: ReadonlySet<string>;
  timeline: Timeline;
  faults: readonly FaultRecord[];
  detectionSlackMs: number;
}

export interface Violation {
  invariant: string;
  count: number;
  examples: string[];
}

class Violations {
  private readonly byName = new Map<string, Violation>();

  add(invariant: string, detail: string): void {
    const v = this.byName.get(invariant) ?? { invariant, count: 0, examples: [] };
    v.count++;
    if (v.examples.length < KEEP_EXAMPLES) v.examples.push(detail);
    this.byName.set(invariant, v);
  }

  list(): Violation[] {
    return [...this.byName.values()];
  }
}

/** The bound on upstream submissions for one task (see the module comment). */
function sendBound(retries: number, fresh: number, maxRecoveryResends: number): number {
  return 1 + retries + maxRecoveryResends + fresh;
}

function isRunwareShaped(e: RunwareErrorObject, t: TaskRec): boolean {
  return (
    typeof e.code === "string" && e.code !== "" && typeof e.message === "string" && e.taskUUID === t.uuid && e.taskType === "imageInference"
  );
}

/**
 * What is wrong with one task's ending, judged from the client's view and the engine's record alone
 * (shared with the soak, which cannot keep every simulator counter): settled once, nothing lost,
 * complete and without duplicates when done, a Runware-shaped error with an injected code when
 * failed, and every retry used before a transient failure is final.
 */
export function outcomeProblems(
  t: TaskRec,
  eng: EngineRec | undefined,
  injectedCodes: ReadonlySet<string>,
  maxTaskRetries: number,
  retries: number,
): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const add = (name: string, detail: string) => out.push([name, detail]);
  const tag = `${t.uuid} (${t.client}, n=${t.n}${t.async ? ", async" : ""})`;
  // §3.2: every accepted task ends exactly once.
  if (t.finals !== 1) add("settles exactly once (client)", `${tag}: ${t.finals} final answers`);
  if (!eng || eng.settles !== 1) add("settles exactly once (engine)", `${tag}: settled ${eng?.settles ?? 0} times`);
  if (!eng || t.state === undefined) return out;

  // Nothing lost: no timeout, no in-doubt, no abort (the simulator always knows its tasks).
  const lossCodes = eng.errors.filter((e) => LOSS_CODES.has(e.code)).map((e) => e.code);
  if (eng.state === "in-doubt" || lossCodes.length > 0)
    add("nothing lost", `${tag}: ${eng.state} ${lossCodes.join(",")}: ${eng.errors[0]?.message ?? ""}`);
  if (t.state !== eng.state) add("client sees the engine's outcome", `${tag}: client ${t.state}, engine ${eng.state}`);

  // All numberResults items, each once.
  if (eng.state === "done") {
    const distinct = new Set(t.items).size;
    if (t.items.length !== t.n || distinct !== t.n)
      add("complete, never duplicated", `${tag}: client got ${t.items.length} items, ${distinct} distinct`);
    if (eng.imageUUIDs.length !== t.n || new Set(eng.imageUUIDs).size !== t.n) {
      add("complete, never duplicated", `${tag}: engine holds ${eng.imageUUIDs.length} items, ${new Set(eng.imageUUIDs).size} distinct`);
    }
    if (t.items.some((u) => !eng.imageUUIDs.includes(u)))
      add("client sees the engine's outcome", `${tag}: client items differ from the engine's`);
  } else {
    // Failures carry Runware's error shape and a code a fault injected.
    if (t.errors.length === 0) add("failures are Runware-shaped with the injected code", `${tag}: failed without errors`);
    for (const e of t.errors) {
      if (!isRunwareShaped(e, t)) add("failures are Runware-shaped with the injected code", `${tag}: ${JSON.stringify(e).slice(0, 200)}`);
      else if (!injectedCodes.has(e.code))
        add("failures are Runware-shaped with the injected code", `${tag}: code ${e.code} was never injected`);
    }
    // §3.5: a transient failure is final only after every retry was used.
    const codes = eng.errors.map((e) => e.code);
    if (codes.length > 0 && codes.every(isTransientCode) && retries !== maxTaskRetries) {
      add("transient errors are retried, maxTaskRetries times", `${tag}: failed with ${codes[0]} after ${retries} retries`);
    }
  }
  return out;
}

export function checkInvariants(input: CheckInput): Violation[] {
  const { ledger, counters, engine, retries, injectedCodes, timeline } = input;
  const v = new Violations();
  const received = counters.received;
  const end = (t: TaskRec) => t.settledAt ?? Number.POSITIVE_INFINITY;

  for (const t of ledger.tasks.values()) {
    const tag = `${t.uuid} (${t.client}, n=${t.n}${t.async ? ", async" : ""})`;
    const eng = ledger.engine.get(t.uuid);
    const got = received[t.uuid] ?? 0;
    const myRetries = retries.get(t.uuid) ?? [];

    for (const [name, detail] of outcomeProblems(t, eng, injectedCodes, engine.maxTaskRetries, myRetries.length)) v.add(name, detail);
    if (!eng || t.state === undefined) continue;

    // §3.5: only transient codes are retried, at most maxTaskRetries times.
    for (const r of myRetries) if (!isTransientCode(r.code)) v.add("permanent errors are never retried", `${tag}: retried after ${r.code}`);
    if (myRetries.length > engine.maxTaskRetries)
      v.add("transient errors are retried, maxTaskRetries times", `${tag}: ${myRetries.length} retries`);

    // §3.3 + §3.5: submissions within the policy's bound; exact when nothing happened to the link.
    if (got < 1) v.add("every task reaches upstream", `${tag}: never received upstream`);
    const fresh = timeline.readies.filter((r) => !r.resumed && r.t > t.submittedAt && r.t <= end(t)).length;
    const bound = sendBound(myRetries.length, fresh, engine.maxRecoveryResends);
    if (got > bound)
      v.add(
        "sent at most as often as the policy allows",
        `${tag}: received ${got} times, bound ${bound} (retries ${myRetries.length}, fresh sessions ${fresh})`,
      );
    const disturbed = timeline.states.some((s) => s.to === "backoff" && s.t >= t.submittedAt && s.t <= end(t));
    if (!disturbed && got !== 1 + myRetries.length) {
      v.add("sent exactly 1 + retries times on an undisturbed link", `${tag}: received ${got} times with ${myRetries.length} retries`);
    }
  }

  // §3.3: nothing upstream that no client submitted (a task is never re-sent under a new UUID).
  for (const uuid of Object.keys(received)) if (!ledger.tasks.has(uuid)) v.add("no taskUUID upstream that no client submitted", uuid);
  for (const uuid of ledger.engine.keys())
    if (!ledger.tasks.has(uuid)) v.add("no taskUUID upstream that no client submitted", `engine settled ${uuid}`);

  // §3.6: never more than maxInFlight outstanding upstream, plus the acknowledged async tasks being
  // polled (at most maxAsync; they hold no in-flight slot, docs/local-api.md §2.8).
  const cap = engine.maxInFlight + engine.maxAsync;
  if (counters.maxOutstanding > cap)
    v.add("never more than maxInFlight + maxAsync outstanding", `${counters.maxOutstanding} > ${engine.maxInFlight} + ${engine.maxAsync}`);

  // §3.4: every re-authentication asks to resume a session Runware handed out before.
  const handedOut = new Set<string>();
  counters.auths.forEach((a, i) => {
    if (i > 0 && (a.requestedSession === undefined || !handedOut.has(a.requestedSession))) {
      v.add("re-authenticates with the previous session", `auth #${i} asked for ${a.requestedSession ?? "no session"}`);
    }
    handedOut.add(a.sessionUUID);
  });

  // §3.7: a link that goes silent while ready is dropped within ping + maxMissed × pong.
  const bound = detectionBoundMs(engine) + input.detectionSlackMs;
  for (const f of input.faults) {
    if (!FREEZE_FAULTS.has(f.kind)) continue;
    const hold = f.kind === "proxyReplace" ? Number.POSITIVE_INFINITY : Number(f.params["holdMs"]);
    if (hold < bound || f.linkAtInjection !== "ready") continue;
    if (f.detectMs === undefined || f.detectMs > bound || !f.dropReason?.includes("heartbeat")) {
      v.add(
        "half-open link detected within ping + 2 × pong",
        `${f.kind} held ${hold} ms: dropped after ${f.detectMs?.toFixed(0) ?? "never"} ms (bound ${bound} ms): ${f.dropReason ?? ""}`,
      );
    }
  }

  for (const a of ledger.anomalies) v.add("clients get well-formed, routed answers", a);
  if (ledger.secretHits > 0) v.add("the API key never appears", `${ledger.secretHits} answers contained it`);
  return v.list();
}
