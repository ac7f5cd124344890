/**
 * One batch of tasks sent over each of the daemon's local paths (docs/local-api.md §2): HTTP
 * `POST /v1`, NDJSON, the local WebSocket and the Node client. Each answers with what its caller
 * got in the end, as `{data, errors}`: results only (no acknowledgement, no `processing` item).
 * Task-type tests run the same batch over every path and assert the same shapes.
 */
import { connect } from "../../src/client/index.js";
import { postTasks, streamTasks, type DaemonRig } from "./daemon.js";
import { WsTestClient, type Obj } from "./ws-client.js";

export type LocalPath = "http" | "ndjson" | "ws" | "client";
export const LOCAL_PATHS: readonly LocalPath[] = ["http", "ndjson", "ws", "client"];

export interface PathAnswer {
  data: Obj[];
  errors: Obj[];
}

export interface PathOptions {
  /** Local WebSocket only: result items each task yields before it is done (default 1), or per taskUUID; an error ends a task too. */
  items?: number | Readonly<Record<string, number>>;
  timeoutMs?: number;
}

const isNews = (item: Obj) => item["status"] === "processing";

async function viaWebSocket(rig: DaemonRig, tasks: Obj[], opts: PathOptions): Promise<PathAnswer> {
  const ws = await WsTestClient.connect(`ws+unix://${rig.socketPath}:/v1`);
  try {
    await ws.authenticate("client-key");
    const from = ws.mark();
    ws.send(tasks);
    const uuids = tasks.map((t) => String(t["taskUUID"]));
    const results = (uuid: string) => ws.items(uuid).filter((i) => !isNews(i));
    const due = (uuid: string) => (typeof opts.items === "object" ? (opts.items[uuid] ?? 1) : (opts.items ?? 1));
    await ws.waitFor(() => uuids.every((u) => ws.errors(u).length > 0 || results(u).length >= due(u)), {
      from,
      what: `every task of ${uuids.join(", ")} answered`,
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    });
    return { data: uuids.flatMap(results), errors: uuids.flatMap((u) => ws.errors(u)) };
  } finally {
    await ws.close();
  }
}

/** Send `tasks` (each with its own taskUUID) over `path`; resolves with the caller's final answer. */
export async function answerVia(path: LocalPath, rig: DaemonRig, tasks: Obj[], opts: PathOptions = {}): Promise<PathAnswer> {
  if (path === "http") {
    const res = await postTasks(rig.socketPath, tasks, {}, opts.timeoutMs);
    return { data: (res.json?.["data"] as Obj[] | undefined) ?? [], errors: (res.json?.["errors"] as Obj[] | undefined) ?? [] };
  }
  if (path === "ndjson") {
    const lines = await streamTasks(rig.socketPath, tasks, opts.timeoutMs).ended;
    const values = lines.map((l) => l.value);
    if (values.at(-1)?.["done"] !== true) throw new Error(`NDJSON stream without its done line: ${JSON.stringify(values)}`);
    return {
      data: values.flatMap((v) => (v["data"] as Obj[] | undefined) ?? []).filter((i) => !isNews(i)),
      errors: values.flatMap((v) => (v["errors"] as Obj[] | undefined) ?? []),
    };
  }
  if (path === "ws") return viaWebSocket(rig, tasks, opts);
  const env = await connect({ socket: rig.socketPath }).run(tasks as Array<Obj & { taskType: string }>);
  return { data: env.data, errors: env.errors ?? [] };
}
