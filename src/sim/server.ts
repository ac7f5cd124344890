/**
 * The bundled Runware simulator: one loopback `http.Server` carrying the WebSocket API on `/v1`
 * (any query string, e.g. sdk-js's `?sdk=js&version=1.3.2`, docs/protocol.md §1.1), the generated
 * images on `/image/<id>.png`, videos and audio on `/video/<id>.mp4` and `/audio/<id>.mp3` (media/),
 * and the fault controls on `/_sim/*`.
 */
import http from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { SimConnection } from "./connection.js";
import { handleControl } from "./control.js";
import { CounterStore, type SimCounters } from "./counters.js";
import { Dispatcher, type SimState } from "./dispatch.js";
import { Account } from "./account.js";
import {
  AuthFaults,
  DeepResults,
  ErrorInjector,
  ModelUploadFaults,
  type AuthFailureMode,
  type ErrorRule,
  type ModelUploadFailure,
} from "./faults.js";
import { ImageStore } from "./images.js";
import { SIM_CONSTANTS } from "./limits.js";
import { readBody, sendJson, serveGenerated } from "./http-files.js";
import { MediaStore } from "./media/store.js";
import { checkDuration, checkScale, resolveOptions, type SimOptions } from "./options.js";
import { TaskRegistry } from "./registry.js";
import { Rng } from "./rng.js";
import { SessionStore } from "./session.js";
import { CATALOGUE } from "./catalogue.js";
import { heroImageId } from "./tasks/model-search.js";
import { Timers } from "./timers.js";

const WS_PATH = "/v1";
const CONTROL_PATH = /^\/_sim\/([A-Za-z]+)$/;
/** Control request bodies are tiny; refuse anything larger. */
const MAX_CONTROL_BODY = 64 * 1024;
/** Catalogue hero images: small, fixed. */
const HERO_SIDE = 256;

export class SimServer {
  private readonly opts: SimOptions;
  private readonly state: SimState;
  private readonly dispatcher: Dispatcher;
  private readonly taps = new Set<(text: string) => void>();
  private readonly http: http.Server;
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<SimConnection>();
  private readonly timers = new Timers();
  private frozen = false;
  private closing: Promise<void> | undefined;
  private base = "";

  private constructor(options: Partial<SimOptions>) {
    this.opts = resolveOptions(options);
    const opts = this.opts;
    const images = new ImageStore(() => opts.taskRetentionMs);
    for (const m of CATALOGUE) images.pin(heroImageId(m), { prompt: m.name, seed: 1, width: HERO_SIDE, height: HERO_SIDE });
    this.state = {
      opts,
      rng: new Rng(opts.seed),
      timers: this.timers,
      counters: new CounterStore(),
      sessions: new SessionStore({ timers: this.timers, coalesceMs: () => opts.coalesceMs, resumeBufferMs: () => opts.resumeBufferMs }),
      registry: new TaskRegistry(this.timers, () => opts.taskRetentionMs),
      images,
      media: new MediaStore(() => opts.taskRetentionMs),
      injector: new ErrorInjector(),
      authFaults: new AuthFaults(),
      deepResults: new DeepResults(),
      account: new Account(),
      modelUploadFaults: new ModelUploadFaults(),
      httpUrl: () => this.base,
      now: () => performance.now(),
      log: opts.logger,
    };
    this.dispatcher = new Dispatcher(this.state);
    // ws closes with 1009 past maxPayload; 0 means no limit, as ws reads it.
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: opts.maxMessageBytes });
    this.http = http.createServer((req, res) => this.onRequest(req, res));
    this.http.on("upgrade", (req, socket, head) => this.onUpgrade(req, socket, head));
  }

  /** Start listening; resolves once `url` is usable. */
  static async start(options: Partial<SimOptions> = {}): Promise<SimServer> {
    const sim = new SimServer(options);
    await new Promise<void>((resolve, reject) => {
      sim.http.once("error", reject);
      sim.http.listen(sim.opts.port, sim.opts.host, () => {
        sim.http.off("error", reject);
        resolve();
      });
    });
    const addr = sim.http.address();
    if (addr === null || typeof addr === "string") throw new Error("simulator: unexpected listen address");
    const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
    sim.base = `http://${host}:${addr.port}`;
    sim.state.log?.info({ url: sim.url }, "sim: listening");
    return sim;
  }

  /** `ws://127.0.0.1:<port>/v1` */
  get url(): string {
    return `${this.base.replace(/^http/, "ws")}${WS_PATH}`;
  }

  /** `http://127.0.0.1:<port>` (images at `/image/<imageUUID>.png`, media at `/video/…`, `/audio/…`, controls at `/_sim/*`). */
  get httpUrl(): string {
    return this.base;
  }

  /** The live options (mutated by the setters below). */
  get options(): Readonly<SimOptions> {
    return this.opts;
  }

  /** A snapshot of what the simulator saw. */
  get counters(): SimCounters {
    return this.state.counters.snapshot({ open: this.connections.size, outstanding: this.state.registry.outstanding });
  }

  resetCounters(): void {
    this.state.counters.reset(this.state.registry.outstanding);
  }

  /**
   * See every text frame the simulator receives, as received, just before it is handled: how
   * tests prove what a client sent upstream byte for byte (no key where none belongs, no frame for
   * a task that should not have gone). Returns the function that removes the tap.
   */
  tapFrames(listener: (text: string) => void): () => void {
    this.taps.add(listener);
    return () => this.taps.delete(listener);
  }

  // ---- controls (also over HTTP, see control.ts) ----

  setLatency(ms: number): void {
    checkDuration("latencyMs", ms);
    this.opts.latencyMs = ms;
  }

  /** Applies to tasks submitted from now on. */
  setWorkTime(ms: number): void {
    checkDuration("workMs", ms);
    this.opts.workMs = ms;
  }

  /** Multiplies the video and audio render times of tasks submitted from now on (`--time-scale`). */
  setTimeScale(scale: number): void {
    checkScale(scale);
    this.opts.timeScale = scale;
  }

  /** Render time at scale 1 of `videoInference` or `audioInference` tasks submitted from now on. */
  setRenderTime(taskType: "videoInference" | "audioInference", ms: number): void {
    const key = taskType === "videoInference" ? "videoRenderMs" : "audioRenderMs";
    checkDuration(key, ms);
    this.opts[key] = ms;
  }

  setAuthDelay(ms: number): void {
    checkDuration("authDelayMs", ms);
    this.opts.authDelayMs = ms;
  }

  setRejectedKeys(keys: readonly string[]): void {
    this.opts.rejectedKeys = [...keys];
  }

  /** Terminate every connection now (clients see 1006). Sessions and their tasks survive. */
  cutAll(): void {
    for (const c of this.connections) c.terminate();
  }

  /** Every current and future connection stops reading and answering (pongs too) without closing. */
  freeze(): void {
    this.frozen = true;
    for (const c of this.connections) c.freeze();
  }

  unfreeze(): void {
    this.frozen = false;
    for (const c of this.connections) c.unfreeze();
  }

  /** Drop every session and its buffer: the next resume gets a fresh session and nothing is replayed. */
  forgetSessions(): void {
    this.state.sessions.forgetAll();
  }

  /** Make tasks fail with `rule.code` instead of producing results (see ErrorRule). */
  injectErrors(rule: ErrorRule): void {
    if (rule.rate !== undefined && !(rule.rate >= 0 && rule.rate <= 1)) throw new RangeError(`rate must be in 0..1, got ${rule.rate}`);
    this.state.injector.add(rule);
  }

  clearErrors(): void {
    this.state.injector.clear();
  }

  /** The next `n` authentications are dropped (connection terminated) or answered `internalServerError`. */
  failNextAuths(n: number, mode: AuthFailureMode): void {
    this.state.authFaults.failNext(n, mode);
  }

  /**
   * Test hook: the next `count` result items (of any task, sync or async) carry a field `nested`
   * that is `depth` arrays deep: a reply no client can re-encode with JSON.stringify.
   */
  nestResults(depth: number, count = 1): void {
    if (!Number.isInteger(depth) || depth < 1) throw new RangeError(`depth must be an integer >= 1, got ${depth}`);
    this.state.deepResults.arm(depth, count);
  }

  /** What `accountManagement` `getDetails` reports as the balance from now on (USD). */
  setBalance(amount: number): void {
    if (!Number.isFinite(amount)) throw new RangeError(`amount must be a finite number, got ${amount}`);
    this.state.account.setBalance(amount);
  }

  /** The next `count` (default 1) modelUploads end on `status` with `message` after `validated`. */
  failModelUploads(failure: ModelUploadFailure): void {
    this.state.modelUploadFaults.arm(failure);
  }

  /** Send a non-JSON text frame to every connection. */
  sendGarbage(text: string = SIM_CONSTANTS.garbageText): void {
    for (const c of this.connections) {
      c.sendRaw(text);
      this.state.counters.garbageSent += 1;
    }
  }

  /** Close everything; resolves when every socket is gone and no timer is left. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const httpClosed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    for (const c of this.connections) c.terminate();
    await Promise.all([...this.connections].map((c) => c.closed));
    this.http.closeAllConnections();
    this.wss.close();
    await httpClosed;
    this.timers.clear();
  }

  // ---- plumbing ----

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(req.url ?? "/", "http://sim").pathname;
    if (this.closing || path !== WS_PATH) {
      socket.end(
        `HTTP/1.1 ${this.closing ? "503 Service Unavailable" : "404 Not Found"}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws));
  }

  private onConnection(ws: WebSocket): void {
    const conn = new SimConnection(ws, {
      onFrame: (c, text) => {
        for (const tap of this.taps) tap(text);
        return this.dispatcher.handleFrame(c, text);
      },
      onClose: (c) => {
        this.connections.delete(c);
        c.session?.detach(c);
      },
      onError: (err) => this.state.log?.error({ err }, "sim: frame handling failed"),
      latencyMs: () => this.opts.latencyMs,
      idleCloseMs: () => this.opts.idleCloseMs,
      closeCode: SIM_CONSTANTS.closeCode,
    });
    this.connections.add(conn);
    this.state.counters.connections += 1;
    if (this.frozen) conn.freeze();
    if (this.closing) conn.terminate();
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = new URL(req.url ?? "/", "http://sim").pathname;
    if (serveGenerated(req, res, path, this.state)) return;
    const ctl = CONTROL_PATH.exec(path);
    if (!ctl) return sendJson(res, 404, { error: "not found" });
    readBody(req, MAX_CONTROL_BODY)
      .then((body) => {
        const reply = handleControl(this, req.method ?? "GET", ctl[1]!, body);
        sendJson(res, reply.status, reply.body);
      })
      .catch((err: unknown) => sendJson(res, 413, { error: String(err) }));
  }
}
