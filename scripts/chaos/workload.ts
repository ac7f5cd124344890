/**
 * The chaos workload: seeded task lists, and the four kinds of client that run them against one
 * daemon at once: `engine.submit` callers, `POST /v1` JSON callers, NDJSON stream readers and local
 * WebSocket clients (Runware's protocol over the Unix socket, async tasks polled with getResponse
 * as a Runware client would). Each reports what it received to the Ledger, as received: duplicates,
 * late frames and foreign results are recorded, never smoothed over.
 */
import type { RunwareErrorObject } from "../../src/errors.js";
import type { UpstreamEngine } from "../../src/upstream/engine.js";
import type { ChaosConfig } from "./config.js";
import { imageUUIDsOf, stateOfErrors, type Ledger, type TaskRec, type Via } from "./ledger.js";
import { LocalWs, postJson, postNdjson, type Json } from "./local-client.js";
import type { SeededRng } from "./rng.js";

export interface TaskSpec {
  uuid: string;
  body: Record<string, unknown> & { taskType: string };
  n: number;
  async: boolean;
}

export interface WorkloadEnv {
  socketPath: string;
  engine: UpstreamEngine;
  ledger: Ledger;
  cfg: Pick<ChaosConfig, "maxBatch" | "wsWindow" | "maxNumberResults" | "asyncShare" | "base64Share" | "daemonAssignedShare" | "wsPollMs">;
  secrets: readonly string[];
  /** The API key a WebSocket client authenticates with locally (must never be forwarded or logged). */
  clientKey: string;
  /** Set when the run is being torn down: clients stop sending new work. */
  stopped: () => boolean;
}

/** Small images keep the simulator's PNG rendering cheap; base64 outputs are always the smallest. */
const SIDES = [128, 256, 512] as const;

export function makeSpecs(rng: SeededRng, count: number, client: string, cfg: WorkloadEnv["cfg"]): TaskSpec[] {
  return Array.from({ length: count }, (_, i) => {
    const n = rng.int(1, cfg.maxNumberResults);
    const async = rng.chance(cfg.asyncShare);
    const base64 = rng.chance(cfg.base64Share);
    const side = base64 ? 128 : rng.pick(SIDES);
    const body: TaskSpec["body"] = {
      taskType: "imageInference",
      model: "runware:101@1",
      positivePrompt: `chaos ${client} task ${i}`,
      width: side,
      height: side,
      numberResults: n,
      seed: rng.int(1, 1_000_000_000),
      ...(async ? { deliveryMethod: "async" } : {}),
      ...(base64 ? { outputType: "base64Data" } : {}),
      ...(rng.chance(0.2) ? { includeCost: true } : {}),
    };
    return { uuid: rng.uuid(), body, n, async };
  });
}

function register(env: WorkloadEnv, spec: TaskSpec, uuid: string, client: string, via: Via, at: number): TaskRec {
  return env.ledger.add({ uuid, client, via, n: spec.n, async: spec.async, submittedAt: at });
}

function asList(v: unknown): Json[] {
  if (Array.isArray(v)) return v.filter((x): x is Json => typeof x === "object" && x !== null);
  return typeof v === "object" && v !== null ? [v as Json] : [];
}

// --- engine.submit -------------------------------------------------------------------------------

export async function runDirect(env: WorkloadEnv, name: string, specs: readonly TaskSpec[], rng: SeededRng): Promise<void> {
  for (let i = 0; i < specs.length && !env.stopped();) {
    const burst = specs.slice(i, i + rng.int(1, env.cfg.maxBatch));
    i += burst.length;
    await Promise.all(
      burst.map((spec) => {
        const rec = register(env, spec, spec.uuid, name, "direct", performance.now());
        const items: string[] = [];
        let handle;
        try {
          handle = env.engine.submit({ ...spec.body, taskUUID: spec.uuid }, { client: name });
        } catch (err) {
          env.ledger.anomaly(`${name}: submit of ${rec.uuid} refused: ${(err as Error).message}`);
          return undefined;
        }
        handle.subscribe((ev) => {
          if (ev.type === "data") items.push(...imageUUIDsOf([ev.item]));
          else if (ev.type === "final") {
            env.ledger.scan(JSON.stringify(ev.outcome), env.secrets);
            env.ledger.final(rec.uuid, { state: ev.outcome.state, items: [...items], errors: ev.outcome.errors });
          }
        });
        return handle.done;
      }),
    );
  }
}

// --- POST /v1, JSON ------------------------------------------------------------------------------

/** A batch body: tasks carry our UUIDs, except a lone task the daemon may name itself. */
function batchBody(env: WorkloadEnv, batch: readonly TaskSpec[], rng: SeededRng): { body: object[]; assigned: boolean } {
  const assigned = batch.length === 1 && rng.chance(env.cfg.daemonAssignedShare);
  return { body: batch.map((s) => (assigned ? s.body : { ...s.body, taskUUID: s.uuid })), assigned };
}

/** The UUIDs of a batch's tasks in the answer; for a daemon-named task, learned from the answer. */
function answerUuids(batch: readonly TaskSpec[], assigned: boolean, seen: readonly Json[]): string[] {
  if (!assigned) return batch.map((s) => s.uuid);
  const learned = seen.map((x) => x["taskUUID"]).find((u): u is string => typeof u === "string");
  return learned ? [learned] : [];
}

export async function runHttp(env: WorkloadEnv, name: string, specs: readonly TaskSpec[], rng: SeededRng): Promise<void> {
  for (let i = 0; i < specs.length && !env.stopped();) {
    const batch = specs.slice(i, i + rng.int(1, env.cfg.maxBatch));
    i += batch.length;
    const { body, assigned } = batchBody(env, batch, rng);
    const t0 = performance.now();
    let ans;
    try {
      ans = await postJson(env.socketPath, body);
    } catch (err) {
      env.ledger.anomaly(`${name}: POST /v1 failed: ${(err as Error).message}`);
      for (const s of batch) if (!assigned) register(env, s, s.uuid, name, "http", t0);
      continue;
    }
    env.ledger.scan(ans.text, env.secrets);
    const data = asList(ans.json?.["data"]);
    const errors = asList(ans.json?.["errors"]) as RunwareErrorObject[];
    const uuids = answerUuids(batch, assigned, [...data, ...errors]);
    if (ans.status !== 200 || uuids.length !== batch.length) {
      env.ledger.anomaly(`${name}: POST /v1 answered ${ans.status}: ${ans.text.slice(0, 300)}`);
      if (!assigned) for (const s of batch) register(env, s, s.uuid, name, "http", t0);
      continue;
    }
    const known = new Set(uuids);
    for (const x of [...data, ...errors]) {
      if (!known.has(String(x["taskUUID"]))) env.ledger.anomaly(`${name}: answer carries ${String(x["taskUUID"])}, not one of its tasks`);
    }
    batch.forEach((spec, k) => {
      const uuid = uuids[k] as string;
      register(env, spec, uuid, name, "http", t0);
      const items = imageUUIDsOf(data.filter((d) => d["taskUUID"] === uuid));
      const errs = errors.filter((e) => e.taskUUID === uuid);
      if (items.length === 0 && errs.length === 0) return; // no answer for it: left unsettled, reported
      env.ledger.final(uuid, { state: stateOfErrors(errs), items, errors: errs });
    });
  }
}

// --- POST /v1, NDJSON ----------------------------------------------------------------------------

export async function runNdjson(env: WorkloadEnv, name: string, specs: readonly TaskSpec[], rng: SeededRng): Promise<void> {
  for (let i = 0; i < specs.length && !env.stopped();) {
    const batch = specs.slice(i, i + rng.int(1, env.cfg.maxBatch));
    i += batch.length;
    const { body, assigned } = batchBody(env, batch, rng);
    const t0 = performance.now();
    let ans;
    try {
      ans = await postNdjson(env.socketPath, body);
    } catch (err) {
      env.ledger.anomaly(`${name}: NDJSON POST /v1 failed: ${(err as Error).message}`);
      for (const s of batch) if (!assigned) register(env, s, s.uuid, name, "ndjson", t0);
      continue;
    }
    env.ledger.scan(ans.text, env.secrets);
    const items = new Map<string, string[]>();
    const errorLines = new Map<string, RunwareErrorObject[][]>();
    const seen: Json[] = [];
    let done: Json | undefined;
    let doneLines = 0;
    for (const line of ans.lines) {
      if (line["done"] === true) {
        doneLines++;
        done = line;
      } else if (line["data"] !== undefined) {
        for (const item of asList(line["data"])) {
          seen.push(item);
          const u = String(item["taskUUID"]);
          items.set(u, [...(items.get(u) ?? []), ...imageUUIDsOf([item])]);
        }
      } else if (line["errors"] !== undefined) {
        const byTask = new Map<string, RunwareErrorObject[]>();
        for (const e of asList(line["errors"]) as RunwareErrorObject[]) {
          seen.push(e);
          byTask.set(String(e.taskUUID), [...(byTask.get(String(e.taskUUID)) ?? []), e]);
        }
        for (const [u, errs] of byTask) errorLines.set(u, [...(errorLines.get(u) ?? []), errs]);
      } else env.ledger.anomaly(`${name}: an NDJSON line that is neither data, errors nor done: ${JSON.stringify(line).slice(0, 200)}`);
    }
    const uuids = answerUuids(batch, assigned, seen);
    const last = ans.lines[ans.lines.length - 1];
    if (ans.status !== 200 || doneLines !== 1 || last?.["done"] !== true || !ans.endedOnNewline || uuids.length !== batch.length) {
      env.ledger.anomaly(`${name}: NDJSON answer ${ans.status} with ${doneLines} done lines (last ${JSON.stringify(last)?.slice(0, 120)})`);
    }
    const results = [...items.values()].reduce((s, l) => s + l.length, 0);
    const counts = done ?? {};
    const tasks = Number(counts["tasks"]);
    if (
      done &&
      (tasks !== batch.length || counts["completed"] + counts["failed"] + counts["inDoubt"] !== tasks || counts["results"] !== results)
    ) {
      env.ledger.anomaly(
        `${name}: NDJSON done line ${JSON.stringify(done)} disagrees with the ${batch.length} tasks / ${results} results streamed`,
      );
    }
    const known = new Set(uuids);
    for (const u of [...items.keys(), ...errorLines.keys()])
      if (!known.has(u)) env.ledger.anomaly(`${name}: NDJSON line for ${u}, not one of its tasks`);
    batch.forEach((spec, k) => {
      const uuid = uuids[k];
      if (uuid === undefined) return;
      register(env, spec, uuid, name, "ndjson", t0);
      const its = items.get(uuid) ?? [];
      const errs = errorLines.get(uuid) ?? [];
      // A failed task's final answer is its errors line; a done task's is the done line.
      const finals = errs.length > 0 ? errs.length : doneLines > 0 ? 1 : 0;
      for (let f = 0; f < finals; f++) env.ledger.final(uuid, { state: stateOfErrors(errs.flat()), items: its, errors: errs.flat() });
    });
  }
}

// --- local WebSocket -----------------------------------------------------------------------------

interface WsTask {
  spec: TaskSpec;
  rec: TaskRec;
  pushed: string[];
  acked: boolean;
  final: boolean;
  pollTimer: NodeJS.Timeout | undefined;
  /** The last frames about this task, for the report when it goes unanswered. */
  history: string[];
}

/** Frames kept per WebSocket task for a diagnosis. */
const HISTORY = 6;

export async function runWs(env: WorkloadEnv, name: string, specs: readonly TaskSpec[], rng: SeededRng): Promise<void> {
  const ws = await LocalWs.connect(env.socketPath);
  try {
    const authed = ws.next((f) => asList(f["data"]).some((d) => d["taskType"] === "authentication"));
    ws.send([{ taskType: "authentication", apiKey: env.clientKey }]);
    env.ledger.scan(JSON.stringify(await authed), env.secrets);
    await wsLoop(env, name, specs, rng, ws);
  } finally {
    await ws.close();
  }
}

function wsLoop(env: WorkloadEnv, name: string, specs: readonly TaskSpec[], rng: SeededRng, ws: LocalWs): Promise<void> {
  const tasks = new Map<string, WsTask>();
  let next = 0;
  let outstanding = 0;
  let finished = 0;
  return new Promise<void>((resolve) => {
    const maybeDone = () => {
      if (finished === next && (next === specs.length || env.stopped())) {
        off();
        for (const t of tasks.values()) clearTimeout(t.pollTimer);
        resolve();
      }
    };
    const sendMore = () => {
      while (outstanding < env.cfg.wsWindow && next < specs.length && !env.stopped()) {
        // Sometimes several tasks in one frame, as Runware allows (an array of tasks per message).
        const group = specs.slice(next, next + Math.min(rng.int(1, 3), env.cfg.wsWindow - outstanding));
        next += group.length;
        outstanding += group.length;
        for (const spec of group) {
          const rec = register(env, spec, spec.uuid, name, "ws", performance.now());
          tasks.set(spec.uuid, { spec, rec, pushed: [], acked: false, final: false, pollTimer: undefined, history: [] });
        }
        ws.send(group.map((s) => ({ ...s.body, taskUUID: s.uuid })));
      }
      maybeDone();
    };
    const finish = (t: WsTask, errors: RunwareErrorObject[], items: string[]) => {
      if (t.final) {
        env.ledger.final(t.rec.uuid, { state: stateOfErrors(errors), items, errors }); // counted as a second final
        return;
      }
      t.final = true;
      clearTimeout(t.pollTimer);
      env.ledger.final(t.rec.uuid, { state: stateOfErrors(errors), items, errors });
      outstanding--;
      finished++;
      sendMore();
    };
    const poll = (t: WsTask) => {
      clearTimeout(t.pollTimer);
      t.pollTimer = setTimeout(() => {
        if (!t.final && ws.isOpen) {
          t.history.push(`${(performance.now() - t.rec.submittedAt).toFixed(0)}ms polled`);
          ws.send([{ taskType: "getResponse", taskUUID: t.rec.uuid }]);
        }
      }, env.cfg.wsPollMs);
    };
    const off = ws.onFrame((frame, text) => {
      env.ledger.scan(text, env.secrets);
      const data = asList(frame["data"]);
      const errors = asList(frame["errors"]) as RunwareErrorObject[];
      const uuids = new Set([...data, ...errors].map((x) => x["taskUUID"]).filter((u): u is string => typeof u === "string"));
      if (frame["unparsable"] !== undefined)
        env.ledger.anomaly(`${name}: a frame that is not JSON: ${String(frame["unparsable"]).slice(0, 100)}`);
      if (uuids.size === 0 && errors.length > 0) env.ledger.anomaly(`${name}: errors without a taskUUID: ${text.slice(0, 200)}`);
      for (const uuid of uuids) {
        const t = tasks.get(uuid);
        if (!t) {
          env.ledger.anomaly(`${name}: a frame for ${uuid}, which this connection did not send`);
          continue;
        }
        const d = data.filter((x) => x["taskUUID"] === uuid);
        const e = errors.filter((x) => x.taskUUID === uuid);
        t.history.push(`${(performance.now() - t.rec.submittedAt).toFixed(0)}ms ${text.slice(0, 300)}`);
        if (t.history.length > HISTORY) t.history.shift();
        // For an async task, the answer to our getResponse is one frame with every item's status
        // (or status:"error" errors); pushed to it are only the acknowledgement and a final error.
        const isPollReply = t.spec.async && (d.some((x) => typeof x["status"] === "string") || e.some((x) => x["status"] === "error"));
        if (isPollReply) {
          if (t.final) continue; // the pushed errors frame already ended it
          const success = d.filter((x) => x["status"] === "success");
          if (e.length > 0) finish(t, e, imageUUIDsOf(success));
          else if (!d.some((x) => x["status"] === "processing") && success.length >= t.spec.n) finish(t, [], imageUUIDsOf(success));
          else poll(t);
        } else if (e.length > 0) {
          finish(t, e, t.pushed);
        } else {
          for (const item of d) {
            const ids = imageUUIDsOf([item]);
            if (ids.length === 0) {
              // The async acknowledgement: {taskType, taskUUID}. Poll for the results, as on Runware.
              if (t.spec.async && !t.acked) {
                t.acked = true;
                poll(t);
              } else {
                env.ledger.anomaly(
                  `${name}: ${t.spec.async ? "a second acknowledgement" : "an item without a result"} for ${t.spec.async ? "async" : "sync"} task ${uuid}: ${JSON.stringify(item).slice(0, 200)}`,
                );
              }
              continue;
            }
            if (t.spec.async) env.ledger.anomaly(`${name}: async task ${uuid} had a result pushed (it must be fetched)`);
            if (t.final) {
              env.ledger.anomaly(`${name}: a result for ${uuid} after its final answer`);
              t.rec.items.push(...ids); // shows up as a duplicate or an extra item
              continue;
            }
            t.pushed.push(...ids);
          }
          if (!t.spec.async && !t.final && t.pushed.length >= t.spec.n) finish(t, [], t.pushed);
        }
      }
    });
    void ws.closed.then(() => {
      if (finished < next) {
        const open = [...tasks.values()].filter((t) => !t.final);
        const why = open
          .slice(0, 3)
          .map(
            (t) =>
              `${t.rec.uuid} async=${t.spec.async} acked=${t.acked} pushed=${t.pushed.length}/${t.spec.n} polling=${t.pollTimer !== undefined} frames: ${t.history.join(" | ")}`,
          );
        env.ledger.anomaly(`${name}: the local WebSocket closed with ${next - finished} tasks unanswered: ${why.join("; ")}`);
      }
      off();
      for (const t of tasks.values()) clearTimeout(t.pollTimer);
      resolve();
    });
    sendMore();
  });
}
