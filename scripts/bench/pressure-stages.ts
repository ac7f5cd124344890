/**
 * The three stages of the pressure phase (pressure.ts) and how a caller's ending is judged. Each
 * stage loads the daemon, counts its callers in a Tally, and returns the bytes it moved.
 */
import { randomUUID } from "node:crypto";
import { CLIENT_DEFAULTS } from "../../src/cli/defaults.js";
import { BENCH, type PressureScale } from "./config.js";
import { localWsUrl } from "./contenders.js";
import { call, PausedWs, type Call, type Outcome } from "./pressure-io.js";
import type { PressureWatch } from "./pressure-watch.js";
import { sleep, startSimWith, waitUntil, type DaemonProc, type Sim } from "./procs.js";

const P = BENCH.pressure;
/** Stands for the seed image in a task's JSON, which is split there around the shared payload. */
const SEED_MARK = "__seedImage__";

export interface Env {
  scale: PressureScale;
  daemon: DaemonProc;
  sim: Sim;
  port: number;
  watch: PressureWatch;
  log(msg: string): void;
}

/** A label for how a caller ended, and whether that counts as answered. */
function judge(kind: "json" | "ndjson" | "ws", o: Outcome, expectItems: number): { label: string; answered: boolean } {
  if (kind === "ws") {
    if (o.complete) return { label: "ws all results", answered: true };
    // The reason's first part names the rule (`clientTooSlow: N bytes unread, ...`); its figures would split the tally.
    if (o.close)
      return { label: `ws close ${o.close.code} ${o.close.reason.split(":")[0] || "(no reason)"}`, answered: o.close.reason !== "" };
    return { label: `ws unanswered: ${o.error ?? "?"}`, answered: false };
  }
  if (o.status === undefined) return { label: `${kind} unanswered: ${o.error ?? "?"}`, answered: false };
  const code = o.codes[o.codes.length - 1];
  if (o.status !== 200) return { label: `${o.status} ${code ?? "(no code)"}`, answered: code !== undefined };
  if (kind === "ndjson") {
    if (o.complete) return { label: "200 ndjson done", answered: true };
    if (code) return { label: `200 ndjson error line ${code}`, answered: true };
    return { label: `200 ndjson cut (${o.error ?? "no done or error line"})`, answered: false };
  }
  if (o.error !== undefined) return { label: `200 cut (${o.error})`, answered: false };
  if (code) return { label: `200 with errors ${code}`, answered: true };
  if (o.items === expectItems) return { label: "200 done", answered: true };
  return { label: `200 with ${o.items} of ${expectItems} results`, answered: false };
}

export class Tally {
  readonly outcomes: Record<string, number> = {};
  callers = 0;
  unanswered = 0;

  add(v: { label: string; answered: boolean }): void {
    this.callers += 1;
    this.outcomes[v.label] = (this.outcomes[v.label] ?? 0) + 1;
    if (!v.answered) this.unanswered += 1;
  }
}

function imageTask(extra: Record<string, unknown>): Record<string, unknown> & { taskUUID: string } {
  return {
    taskType: "imageInference",
    taskUUID: randomUUID(),
    model: CLIENT_DEFAULTS.model,
    positivePrompt: "pressure",
    width: P.imageSide,
    height: P.imageSide,
    ...extra,
  };
}

const resultTask = () => imageTask({ numberResults: P.resultsPerTask, outputType: "base64Data" });
const body = (tasks: unknown[]) => [Buffer.from(JSON.stringify(tasks))];

/** Runs `n` jobs, `width` at a time; `start(i)` resolves when job i's slot may be reused. */
async function pool(n: number, width: number, start: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (next < n) await start(next++);
    }),
  );
}

async function tasksSettled(daemon: DaemonProc): Promise<number> {
  const t = (await daemon.status()).tasks;
  return t.completed + t.failed;
}

// --- 1. results -------------------------------------------------------------------------------------

async function results(env: Env, tally: Tally, notes: Record<string, number>): Promise<number> {
  const { scale, daemon } = env;
  let bytes = 0;
  await pool(scale.resultTasks, scale.resultConcurrency, async () => {
    const o = await call(daemon.socket, { body: body([resultTask()]), timeoutMs: scale.stageTimeoutMs }).answer;
    bytes += o.bytes;
    tally.add(judge("json", o, P.resultsPerTask));
  });
  notes["resultItems"] = scale.resultTasks * P.resultsPerTask;
  await env.watch.liveNow();
  return bytes;
}

// --- 2. queued inputs while the upstream is down ----------------------------------------------------

async function queued(env: Env, tally: Tally, notes: Record<string, number>): Promise<number> {
  const { scale, daemon } = env;
  await env.sim.child.kill();
  await waitUntil("the daemon to see the upstream gone", async () => (await daemon.status()).upstream.state !== "ready");
  const prefix = "data:image/png;base64,";
  // One shared payload: every request writes the same buffer, the bench holds it once.
  const payload = Buffer.alloc(P.seedImageBytes - prefix.length, "A");
  const calls: Call[] = [];
  await pool(scale.queuedTasks, scale.queuedUploads, async () => {
    const [head, tail] = JSON.stringify([imageTask({ seedImage: `${prefix}${SEED_MARK}` })]).split(SEED_MARK) as [string, string];
    const c = call(daemon.socket, { body: [Buffer.from(head), payload, Buffer.from(tail)], timeoutMs: scale.stageTimeoutMs });
    calls.push(c);
    await c.sent;
  });
  const bytes = scale.queuedTasks * P.seedImageBytes;
  await sleep(P.outageHoldMs);
  await env.watch.liveNow();
  const st = await daemon.status();
  notes["queuedWhileDown"] = st.tasks.queued;
  env.log(`pressure: ${calls.length} inputs submitted with the upstream down; ${st.tasks.queued} queued; bringing it back`);
  env.sim = await startSimWith("sim(pressure, back)", simOptions(env.port));
  const outcomes = await Promise.all(calls.map((c) => c.answer));
  for (const o of outcomes) tally.add(judge("json", o, 1));
  notes["accepted"] = outcomes.filter((o) => o.status === 200).length;
  return bytes;
}

// --- 3. clients that never read ----------------------------------------------------------------------

async function nonReaders(env: Env, tally: Tally, notes: Record<string, number>): Promise<number> {
  const { scale, daemon } = env;
  const perClient = P.slowTasksPerClient;
  const expectItems = perClient * P.resultsPerTask;
  const before = await tasksSettled(daemon);
  const uuids: string[] = [];
  const tasksFor = () => {
    const ts = Array.from({ length: perClient }, resultTask);
    uuids.push(...ts.map((t) => t.taskUUID));
    return ts;
  };
  const opened = await Promise.all(
    Array.from({ length: scale.slowWsClients }, () =>
      PausedWs.open(localWsUrl(daemon.socket), BENCH.apiKey, tasksFor(), expectItems).catch((err: Error) => err),
    ),
  );
  const ws = opened.filter((c): c is PausedWs => c instanceof PausedWs);
  // A connection refused at the upgrade is an answer when it carries an HTTP status (the connection cap).
  for (const err of opened.filter((c): c is Error => c instanceof Error)) {
    tally.add({ label: `ws refused: ${err.message}`, answered: /Unexpected server response: \d{3}/.test(err.message) });
  }
  const nd = Array.from({ length: scale.slowNdjsonClients }, () =>
    call(daemon.socket, { body: body(tasksFor()), ndjson: true, paused: true, timeoutMs: scale.stageTimeoutMs }),
  );
  const total = uuids.length;
  const deadline = performance.now() + scale.stageTimeoutMs;
  let settled = 0;
  while ((settled = (await tasksSettled(daemon)) - before) < total && performance.now() < deadline) await sleep(100);
  notes["tasksUnsettled"] = Math.max(0, total - settled);
  await sleep(P.slowHoldMs);
  await env.watch.liveNow();
  env.log(`pressure: ${total} tasks of ${ws.length + nd.length} non-reading clients settled; reading on`);
  const ndOutcomes = Promise.all(
    nd.map(async (c) => {
      c.resume();
      const timer = setTimeout(() => c.cancel(`nothing final within ${P.drainTimeoutMs} ms of reading on`), P.drainTimeoutMs);
      const o = await c.answer;
      clearTimeout(timer);
      return o;
    }),
  );
  const wsOutcomes = await Promise.all(ws.map((c) => c.drain(P.drainTimeoutMs)));
  for (const o of wsOutcomes) tally.add(judge("ws", o, expectItems));
  for (const o of await ndOutcomes) tally.add(judge("ndjson", o, expectItems));
  notes["bytesReadAfterResume"] = [...wsOutcomes, ...(await ndOutcomes)].reduce((n, o) => n + o.bytes, 0);
  // Their tasks ran on; each is readable by UUID (200) or, once its results were evicted, 410.
  const byStatus: Record<string, number> = {};
  await pool(uuids.length, P.readBackConcurrency, async (i) => {
    const o = await call(daemon.socket, { path: `/v1/tasks/${uuids[i]}`, timeoutMs: scale.stageTimeoutMs }).answer;
    const key = `readBack${o.status ?? "None"}`;
    byStatus[key] = (byStatus[key] ?? 0) + 1;
  });
  Object.assign(notes, byStatus);
  return total * P.resultsPerTask * P.base64ResultChars;
}

// --- the phase ----------------------------------------------------------------------------------------

/** The simulator of the phase: base64 results padded to size, a fixed port to come back on. */
export function simOptions(port: number): Record<string, unknown> {
  return { port, workMs: 0, base64ResultChars: P.base64ResultChars, taskRetentionMs: P.simTaskRetentionMs };
}

export type Stage = (env: Env, tally: Tally, notes: Record<string, number>) => Promise<number>;
export const STAGES: ReadonlyArray<readonly [string, Stage]> = [
  ["results", results],
  ["queued", queued],
  ["non-readers", nonReaders],
];
