/**
 * The chaos workload: seeded task lists, and the kinds of client that run them against one daemon at
 * once: `engine.submit` callers and `POST /v1` callers reading a JSON answer or an NDJSON stream
 * (here), and local WebSocket clients (workload-ws.ts). Each reports what it received to the Ledger,
 * as received: duplicates, late frames and foreign results are recorded, never smoothed over.
 */
import { CLIENT_DEFAULTS } from "../../src/cli/defaults.js";
import type { RunwareErrorObject } from "../../src/errors.js";
import type { UpstreamEngine } from "../../src/upstream/engine.js";
import type { ChaosConfig } from "./config.js";
import { imageUUIDsOf, stateOfErrors, type ClientView, type Ledger, type TaskRec, type Via } from "./ledger.js";
import { postJson, postNdjson, type Answer, type Json, type NdjsonAnswer } from "./local-client.js";
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
      model: CLIENT_DEFAULTS.model,
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

export function register(env: WorkloadEnv, spec: TaskSpec, uuid: string, client: string, via: Via, at: number): TaskRec {
  return env.ledger.add({ uuid, client, via, n: spec.n, async: spec.async, submittedAt: at });
}

export function asList(v: unknown): Json[] {
  if (Array.isArray(v)) return v.filter((x): x is Json => typeof x === "object" && x !== null);
  return typeof v === "object" && v !== null ? [v] : [];
}

// --- engine.submit -------------------------------------------------------------------------------

export async function runDirect(env: WorkloadEnv, name: string, specs: readonly TaskSpec[], rng: SeededRng): Promise<void> {
  for (let i = 0; i < specs.length && !env.stopped();) {
    const burst = specs.slice(i, i + rng.int(1, env.cfg.maxBatch));
    i += burst.length;
    await Promise.all(
      burst.map(async (spec) => {
        const rec = register(env, spec, spec.uuid, name, "direct", performance.now());
        const items: string[] = [];
        let handle;
        try {
          handle = env.engine.submit({ ...spec.body, taskUUID: spec.uuid }, { client: name });
        } catch (err) {
          env.ledger.anomaly(`${name}: submit of ${rec.uuid} refused: ${(err as Error).message}`);
          return;
        }
        handle.subscribe((ev) => {
          if (ev.type === "data") items.push(...imageUUIDsOf([ev.item]));
          else if (ev.type === "final") {
            env.ledger.scan(JSON.stringify(ev.outcome), env.secrets);
            env.ledger.final(rec.uuid, { state: ev.outcome.state, items: [...items], errors: ev.outcome.errors });
          }
        });
        await handle.done;
      }),
    );
  }
}

// --- POST /v1, JSON or NDJSON --------------------------------------------------------------------

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

/** What one answer to a batch says, as its form reads it. */
interface Reading {
  /** The batch's tasks' UUIDs, in batch order (shorter when a daemon-named task's UUID was not learned). */
  uuids: string[];
  /** The taskUUID of every answer part, to catch parts that are about no task of this batch. */
  about: Iterable<string>;
  /** The final answers the answer gives a task (none: left unsettled, reported by the invariants). */
  finals: (uuid: string) => ClientView[];
}

/** How a `POST /v1` caller asks for its answer and reads it. */
interface AnswerForm<A extends { text: string }> {
  via: "http" | "ndjson";
  /** Names the request in anomaly lines. */
  what: string;
  post: (socketPath: string, body: object[]) => Promise<A>;
  /** Reads an answer, reporting what is wrong with it; undefined when it is no answer at all. */
  read: (ans: A, batch: readonly TaskSpec[], assigned: boolean, report: (text: string) => void) => Reading | undefined;
}

/** One JSON answer to the whole batch: `{data, errors}`, or a refusal. */
const JSON_ANSWER: AnswerForm<Answer> = {
  via: "http",
  what: "POST /v1",
  post: (socketPath, body) => postJson(socketPath, body),
  read(ans, batch, assigned, report) {
    const data = asList(ans.json?.["data"]);
    const errors = asList(ans.json?.["errors"]) as RunwareErrorObject[];
    const uuids = answerUuids(batch, assigned, [...data, ...errors]);
    if (ans.status !== 200 || uuids.length !== batch.length) {
      report(`POST /v1 answered ${ans.status}: ${ans.text.slice(0, 300)}`);
      return undefined;
    }
    return {
      uuids,
      about: [...data, ...errors].map((x) => String(x["taskUUID"])),
      finals(uuid) {
        const items = imageUUIDsOf(data.filter((d) => d["taskUUID"] === uuid));
        const errs = errors.filter((e) => e.taskUUID === uuid);
        return items.length === 0 && errs.length === 0 ? [] : [{ state: stateOfErrors(errs), items, errors: errs }];
      },
    };
  },
};

/** A stream of `data` and `errors` lines as tasks progress, then one `done` line with the counts. */
const NDJSON_ANSWER: AnswerForm<NdjsonAnswer> = {
  via: "ndjson",
  what: "NDJSON POST /v1",
  post: (socketPath, body) => postNdjson(socketPath, body),
  read(ans, batch, assigned, report) {
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
      } else report(`an NDJSON line that is neither data, errors nor done: ${JSON.stringify(line).slice(0, 200)}`);
    }
    const uuids = answerUuids(batch, assigned, seen);
    const last = ans.lines[ans.lines.length - 1];
    if (ans.status !== 200 || doneLines !== 1 || last?.["done"] !== true || !ans.endedOnNewline || uuids.length !== batch.length) {
      report(`NDJSON answer ${ans.status} with ${doneLines} done lines (last ${JSON.stringify(last)?.slice(0, 120)})`);
    }
    const results = [...items.values()].reduce((s, l) => s + l.length, 0);
    const counts = done ?? {};
    const tasks = Number(counts["tasks"]);
    if (
      done &&
      (tasks !== batch.length || counts["completed"] + counts["failed"] + counts["inDoubt"] !== tasks || counts["results"] !== results)
    ) {
      report(`NDJSON done line ${JSON.stringify(done)} disagrees with the ${batch.length} tasks / ${results} results streamed`);
    }
    return {
      uuids,
      about: [...items.keys(), ...errorLines.keys()],
      finals(uuid) {
        const its = items.get(uuid) ?? [];
        const lines = errorLines.get(uuid) ?? [];
        const errs = lines.flat();
        // A failed task's final answer is its errors line (each one counts); a done task's is the done line.
        const finals = lines.length > 0 ? lines.length : doneLines > 0 ? 1 : 0;
        return Array.from({ length: finals }, () => ({ state: stateOfErrors(errs), items: its, errors: errs }));
      },
    };
  },
};

async function runPost<A extends { text: string }>(
  form: AnswerForm<A>,
  env: WorkloadEnv,
  name: string,
  specs: readonly TaskSpec[],
  rng: SeededRng,
): Promise<void> {
  const report = (text: string) => env.ledger.anomaly(`${name}: ${text}`);
  for (let i = 0; i < specs.length && !env.stopped();) {
    const batch = specs.slice(i, i + rng.int(1, env.cfg.maxBatch));
    i += batch.length;
    const { body, assigned } = batchBody(env, batch, rng);
    const t0 = performance.now();
    let ans;
    try {
      ans = await form.post(env.socketPath, body);
    } catch (err) {
      report(`${form.what} failed: ${(err as Error).message}`);
      if (!assigned) for (const s of batch) register(env, s, s.uuid, name, form.via, t0);
      continue;
    }
    env.ledger.scan(ans.text, env.secrets);
    const reading = form.read(ans, batch, assigned, report);
    if (reading === undefined) {
      if (!assigned) for (const s of batch) register(env, s, s.uuid, name, form.via, t0);
      continue;
    }
    const known = new Set(reading.uuids);
    for (const u of reading.about) if (!known.has(u)) report(`${form.what} answer carries ${u}, not one of its tasks`);
    batch.forEach((spec, k) => {
      const uuid = reading.uuids[k];
      if (uuid === undefined) return;
      register(env, spec, uuid, name, form.via, t0);
      for (const view of reading.finals(uuid)) env.ledger.final(uuid, view);
    });
  }
}

export const runHttp = (env: WorkloadEnv, name: string, specs: readonly TaskSpec[], rng: SeededRng): Promise<void> =>
  runPost(JSON_ANSWER, env, name, specs, rng);

export const runNdjson = (env: WorkloadEnv, name: string, specs: readonly TaskSpec[], rng: SeededRng): Promise<void> =>
  runPost(NDJSON_ANSWER, env, name, specs, rng);
