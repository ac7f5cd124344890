/**
 * The local WebSocket client of the chaos workload: Runware's protocol over the Unix socket, several
 * tasks per frame within a window, async tasks polled with getResponse as a Runware client would.
 * Every frame is reported to the Ledger as received.
 */
import type { RunwareErrorObject } from "../../src/errors.js";
import { imageUUIDsOf, stateOfErrors, type TaskRec } from "./ledger.js";
import { LocalWs } from "./local-client.js";
import type { SeededRng } from "./rng.js";
import { asList, register, type TaskSpec, type WorkloadEnv } from "./workload.js";

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
