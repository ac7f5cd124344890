/**
 * The contenders: ways for a local program to get an image task done. Each exposes one `Runner` per
 * concurrent worker; a runner takes tasks, sends them as ONE request (one HTTP POST, or one frame
 * per task over a WebSocket) and resolves once every task has its result. Any error fails the run:
 * a benchmark that counts failures as throughput is worse than none.
 */
import { randomUUID } from "node:crypto";
import WebSocket from "ws";
import { Runware } from "@runware/sdk-js";
import { connect } from "../../src/client/index.js";
import { benchTask } from "./config.js";

export type BenchTask = Record<string, unknown> & { taskType: string; taskUUID: string };
export type Runner = (tasks: BenchTask[]) => Promise<void>;

export interface Contender {
  readonly name: string;
  /** One per concurrent worker (several may share one connection). */
  readonly runners: Runner[];
  close(): Promise<void>;
}

export function makeTasks(n: number): BenchTask[] {
  return Array.from({ length: n }, () => benchTask(randomUUID()) as BenchTask);
}

/** The daemon's `POST /v1` through the project's own Node client, with keep-alive connections. */
export function daemonHttp(name: string, socket: string, workers: number): Contender {
  const client = connect({ socket, keepAlive: true });
  const runner: Runner = async (tasks) => {
    const env = await client.run(tasks);
    if (env.errors?.length) throw new Error(`${name}: ${env.errors[0]?.code}: ${env.errors[0]?.message}`);
    if (env.data.length !== tasks.length) throw new Error(`${name}: ${env.data.length} results for ${tasks.length} tasks`);
  };
  return { name, runners: Array.from({ length: workers }, () => runner), close: async () => {} };
}

/**
 * A minimal Runware WebSocket client, the baseline any multiplexer is measured against: one socket,
 * auth first, then tasks routed back by taskUUID through a Map (the `raw-ws` baseline of docs/protocol.md §10.4).
 * Used directly against the simulator and, with a ws+unix URL, against the daemon's local WebSocket.
 */
class WsTaskClient {
  private readonly pending = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();

  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (raw: Buffer) => this.onMessage(raw.toString("utf8")));
    ws.on("close", () => this.failAll(new Error("websocket closed")));
  }

  static open(url: string, apiKey: string): Promise<WsTaskClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      ws.once("error", reject);
      ws.once("open", () => ws.send(JSON.stringify([{ taskType: "authentication", apiKey }])));
      ws.once("message", (raw: Buffer) => {
        const msg = JSON.parse(raw.toString("utf8")) as { data?: Array<{ taskType?: string }>; errors?: unknown[] };
        if (msg.data?.[0]?.taskType !== "authentication") {
          reject(new Error(`auth failed: ${raw.toString("utf8")}`));
          return;
        }
        ws.off("error", reject);
        ws.on("error", () => {});
        resolve(new WsTaskClient(ws));
      });
    });
  }

  /** Send one task in its own frame; resolves at its first result (every bench task asks for one). */
  run(task: BenchTask): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.set(task.taskUUID, { resolve, reject });
      this.ws.send(JSON.stringify([task]));
    });
  }

  close(): void {
    this.ws.terminate();
  }

  private onMessage(text: string): void {
    const msg = JSON.parse(text) as { data?: Array<{ taskUUID?: string }>; errors?: Array<{ taskUUID?: string; code?: string }> };
    for (const item of msg.data ?? []) {
      const p = item.taskUUID ? this.pending.get(item.taskUUID) : undefined;
      if (!p || !item.taskUUID) continue;
      this.pending.delete(item.taskUUID);
      p.resolve();
    }
    for (const err of msg.errors ?? []) {
      const p = err.taskUUID ? this.pending.get(err.taskUUID) : undefined;
      if (!p || !err.taskUUID) continue;
      this.pending.delete(err.taskUUID);
      p.reject(new Error(`task failed: ${err.code}`));
    }
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

/** `connections` sockets to `url`, shared round-robin by `workers` runners. */
export async function wsContender(name: string, url: string, apiKey: string, connections: number, workers: number): Promise<Contender> {
  const clients = await Promise.all(Array.from({ length: connections }, () => WsTaskClient.open(url, apiKey)));
  const runners = Array.from({ length: workers }, (_, i): Runner => {
    const c = clients[i % clients.length] as WsTaskClient;
    return async (tasks) => {
      await Promise.all(tasks.map((t) => c.run(t)));
    };
  });
  return {
    name,
    runners,
    close: async () => {
      for (const c of clients) c.close();
    },
  };
}

type SdkInstance = Awaited<ReturnType<typeof Runware.initialize>>;

/** The official SDK, connected and authenticated once, `workers` concurrent calls on its one socket. */
export async function sdkContender(name: string, url: string, apiKey: string, workers: number): Promise<Contender> {
  const rw: SdkInstance = await Runware.initialize({ apiKey, url, enableLogging: false });
  const runner: Runner = async (tasks) => {
    await Promise.all(
      tasks.map(async (t) => {
        const images = await rw.imageInference({
          positivePrompt: String(t["positivePrompt"]),
          model: String(t["model"]),
          width: Number(t["width"]),
          height: Number(t["height"]),
          numberResults: 1,
        });
        if (images?.length !== 1) throw new Error(`${name}: ${images?.length ?? 0} images for one task`);
      }),
    );
  };
  return {
    name,
    runners: Array.from({ length: workers }, () => runner),
    close: () => rw.disconnect(),
  };
}

/** The local WebSocket URL of a daemon socket, in ws's `ws+unix://PATH:REQUEST_PATH` form. */
export function localWsUrl(socket: string): string {
  return `ws+unix://${socket}:/v1`;
}
