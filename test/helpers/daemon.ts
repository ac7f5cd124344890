/**
 * Test rig for the daemon's local API (docs/local-api.md §2): a SimServer upstream, a `Daemon` in-process on a
 * Unix socket in a fresh private temp dir, a tiny HTTP-over-Unix-socket client (JSON and NDJSON),
 * and a runner for the real CLI (`node dist/src/cli/main.js daemon ...`) as a child process.
 * Everything registers its closer with a `Cleanup`, so `afterEach(() => cleanup.run())` leaves
 * nothing behind: no daemon, simulator, child process, socket or temp dir.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import http, { type IncomingHttpHeaders } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { flagOf, loadDaemonConfig, type DaemonConfig, type Settings } from "../../src/local/config.js";
import { Daemon, type DaemonOptions } from "../../src/local/daemon.js";
import { SimServer, type SimOptions } from "../../src/sim/index.js";
import type { EngineOptions } from "../../src/upstream/engine.js";
import type { Cleanup } from "./cleanup.js";
import { FAST } from "./engine.js";
import { waitFor, WAIT_DEFAULTS } from "./wait.js";
import type { Obj } from "./ws-client.js";

/** The daemon's key in tests: obviously fake. */
export const TEST_KEY = "test-key";

/**
 * Every test daemon's journals live here (one per socket path), never in the user's home; the
 * children the tests spawn get it as XDG_STATE_HOME. Removed when the test process exits.
 */
export const TEST_STATE_HOME = mkdtempSync(join(tmpdir(), "rwd-state-"));
process.once("exit", () => rmSync(TEST_STATE_HOME, { recursive: true, force: true }));

/** Flags every test daemon gets (fast engine timings; overridable per test). */
export const FAST_FLAGS: Readonly<Record<string, string>> = {
  "state-dir": join(TEST_STATE_HOME, "runware"),
  "task-timeout-ms": String(FAST.taskTimeoutMs),
  "ping-interval-ms": String(FAST.pingIntervalMs),
  "pong-timeout-ms": String(FAST.pongTimeoutMs),
  "backoff-base-ms": String(FAST.backoffBaseMs),
  "backoff-max-ms": String(FAST.backoffMaxMs),
  // A test that ends with a task still running must not wait 30 s for it in afterEach.
  "drain-timeout-ms": "1000",
  "log-level": "silent",
};

/** Engine timings that have no CLI flag (polls, retries, auth timeout...), taken from FAST; flags own the rest. */
export const FAST_ENGINE: Partial<EngineOptions> = Object.fromEntries(Object.entries(FAST).filter(([k]) => flagOf(k) === undefined));

/** A fresh private (0700, from mkdtemp) directory under the OS temp dir, removed at cleanup. */
export function tempDir(cleanup: Cleanup, prefix = "rwd-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanup.defer(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `{ "max-in-flight": "1" }` → `["--max-in-flight", "1"]` */
export function toArgv(flags: Readonly<Record<string, string>>): string[] {
  return Object.entries(flags).flatMap(([k, v]) => [`--${k}`, v]);
}

/** A daemon config built through the real flag parser, as `runware daemon` would build it. */
export function daemonConfig(
  upstream: string,
  socketPath: string,
  flags: Readonly<Record<string, string>> = {},
  apiKey = TEST_KEY,
): DaemonConfig {
  const argv = toArgv({ ...FAST_FLAGS, upstream, socket: socketPath, ...flags });
  return loadDaemonConfig(argv, { RUNWARE_API_KEY: apiKey });
}

export interface DaemonRig {
  sim: SimServer;
  daemon: Daemon;
  cfg: DaemonConfig;
  dir: string;
  socketPath: string;
}

export interface RigOptions {
  sim?: Partial<SimOptions>;
  /** CLI flags (without the leading dashes), on top of FAST_FLAGS. */
  flags?: Record<string, string>;
  /** Settings without a flag (e.g. `maxBodyBytes`), set in the config after the flags. */
  settings?: Partial<Settings>;
  daemon?: DaemonOptions;
  apiKey?: string;
  /** Socket path inside the temp dir (default `run/daemon.sock`: the daemon creates `run/`). */
  socketName?: string;
  /** Wait until the upstream link is ready (default true). */
  ready?: boolean;
}

/** A simulator (workMs 5 unless told) and a daemon on a socket in a fresh temp dir. */
export async function startRig(cleanup: Cleanup, opts: RigOptions = {}): Promise<DaemonRig> {
  const dir = tempDir(cleanup);
  const sim = cleanup.add(await SimServer.start({ workMs: 5, ...opts.sim }), (s) => s.close());
  const socketPath = join(dir, opts.socketName ?? "run/daemon.sock");
  const cfg = { ...daemonConfig(sim.url, socketPath, opts.flags, opts.apiKey), ...opts.settings };
  const daemon = cleanup.add(await Daemon.start(cfg, { ...opts.daemon, engine: { ...FAST_ENGINE, ...opts.daemon?.engine } }), (d) =>
    d.stop("test over"),
  );
  if (opts.ready !== false) await waitFor(() => daemon.engine.stats().upstream.state === "ready", "the daemon's upstream link to be ready");
  return { sim, daemon, cfg, dir, socketPath };
}

// --- HTTP over the Unix socket ---------------------------------------------------------------------

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: Obj | undefined;
}

export interface RequestOptions {
  method?: string;
  /** An object/array is sent as JSON; a string or Buffer as is. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Send the body with chunked encoding (no content-length). */
  chunked?: boolean;
  timeoutMs?: number;
}

function encodeBody(body: unknown): Buffer | undefined {
  if (body === undefined) return undefined;
  if (Buffer.isBuffer(body)) return body;
  return Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
}

/** Start a request; the caller decides when to end or destroy it. */
export function openRequest(socketPath: string, path: string, opts: RequestOptions = {}): http.ClientRequest {
  const body = encodeBody(opts.body);
  const headers: Record<string, string> = { ...opts.headers };
  if (body && !opts.chunked) headers["content-length"] = String(body.length);
  if (body && !headers["content-type"]) headers["content-type"] = "application/json";
  // agent: false — one connection per request, closed after it, so nothing lingers past a test.
  return http.request({ socketPath, path, method: opts.method ?? (body ? "POST" : "GET"), headers, agent: false });
}

/** One request, the whole answer. Resolves once the response has ended, whatever happens after. */
export function request(socketPath: string, path: string, opts: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = openRequest(socketPath, path, opts);
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      req.destroy();
      reject(new Error(`${req.method} ${path}: no answer within ${opts.timeoutMs ?? WAIT_DEFAULTS.timeoutMs} ms`));
    }, opts.timeoutMs ?? WAIT_DEFAULTS.timeoutMs);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString("utf8");
        let json: Obj | undefined;
        try {
          json = JSON.parse(text) as Obj;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    // A server that refuses a body may reset the connection after answering: the answer counts.
    req.on("error", (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(err);
    });
    const body = encodeBody(opts.body);
    if (body && opts.chunked) {
      // Several chunks, so the server sees the size grow rather than a declared length.
      const step = Math.max(1, Math.ceil(body.length / 4));
      for (let i = 0; i < body.length; i += step) req.write(body.subarray(i, i + step));
      req.end();
    } else req.end(body);
  });
}

/** `POST /v1` with a JSON batch. */
export function postTasks(socketPath: string, tasks: unknown, headers: Record<string, string> = {}, timeoutMs?: number): Promise<Reply> {
  return request(socketPath, "/v1", { method: "POST", body: tasks, headers, ...(timeoutMs ? { timeoutMs } : {}) });
}

export async function getJson(socketPath: string, path: string): Promise<Reply> {
  return request(socketPath, path);
}

export interface NdjsonLine {
  /** `performance.now()` when the line arrived. */
  at: number;
  value: Obj;
}

export interface NdjsonStream {
  status: Promise<number>;
  headers: Promise<IncomingHttpHeaders>;
  lines: NdjsonLine[];
  /** Called for every line as it arrives. */
  onLine: (fn: (l: NdjsonLine) => void) => void;
  /** Resolves with every line once the response has ended. */
  ended: Promise<NdjsonLine[]>;
  /** Raw text received (to check that nothing but whole JSON lines arrived). */
  raw: () => string;
}

/** `POST /v1` with `Accept: application/x-ndjson`, collecting each line as it arrives. */
export function streamTasks(socketPath: string, tasks: unknown, timeoutMs: number = WAIT_DEFAULTS.timeoutMs): NdjsonStream {
  const lines: NdjsonLine[] = [];
  const listeners: Array<(l: NdjsonLine) => void> = [];
  let raw = "";
  let resolveStatus!: (n: number) => void;
  let resolveHeaders!: (h: IncomingHttpHeaders) => void;
  const status = new Promise<number>((r) => (resolveStatus = r));
  const headers = new Promise<IncomingHttpHeaders>((r) => (resolveHeaders = r));
  const ended = new Promise<NdjsonLine[]>((resolve, reject) => {
    const req = openRequest(socketPath, "/v1", { method: "POST", body: tasks, headers: { accept: "application/x-ndjson" } });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`NDJSON stream not ended within ${timeoutMs} ms; got ${raw.slice(0, 500)}`));
    }, timeoutMs);
    req.on("response", (res) => {
      resolveStatus(res.statusCode ?? 0);
      resolveHeaders(res.headers);
      let buf = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        raw += chunk;
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const text = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const line = { at: performance.now(), value: JSON.parse(text) as Obj };
          lines.push(line);
          for (const l of listeners) l(line);
        }
      });
      res.on("end", () => {
        clearTimeout(timer);
        if (buf !== "") reject(new Error(`stream ended inside a line: ${buf}`));
        else resolve(lines);
      });
    });
    req.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(encodeBody(tasks));
  });
  return { status, headers, lines, onLine: (fn) => listeners.push(fn), ended, raw: () => raw };
}

// --- the real CLI as a child process ---------------------------------------------------------------

/** The built CLI (`npm test` builds first; run `npm run build` before these tests locally). */
export const CLI_MAIN = fileURLToPath(new URL("../../dist/src/cli/main.js", import.meta.url));

export interface Child {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first stdout line containing `text`; rejects if the process exits first. */
  waitForLine: (text: string, timeoutMs?: number) => Promise<string>;
}

/** The environment for a child: ours without any RUNWARE_* variable, plus `env`. */
export function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("RUNWARE_")));
  return { ...base, XDG_STATE_HOME: TEST_STATE_HOME, ...env };
}

/** Spawn `node [nodeArgs] dist/src/cli/main.js <args>`; killed (SIGKILL) at cleanup if still running. */
export function spawnCli(cleanup: Cleanup, args: string[], env: Record<string, string | undefined>, nodeArgs: string[] = []): Child {
  if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: run \`npm run build\` first`);
  const child = spawn(process.execPath, [...nodeArgs, CLI_MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"], env: childEnv(env) });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  cleanup.defer(async () => {
    if (!gone) child.kill("SIGKILL");
    await exited;
  });
  const waitForLine = async (text: string, timeoutMs = 10_000) => {
    return waitFor(
      () => {
        const line = out.split("\n").find((l) => l.includes(text));
        if (line) return line;
        if (gone) throw new Error(`the daemon exited before printing '${text}'; stdout: ${out} stderr: ${err}`);
        return undefined;
      },
      `a stdout line containing '${text}' (stderr so far: ${err})`,
      timeoutMs,
    );
  };
  return { child, stdout: () => out, stderr: () => err, exited, waitForLine };
}

/** `runware daemon` against `upstream` on `socketPath`, with fast timings (`nodeArgs`: e.g. a heap limit). */
export function spawnDaemon(
  cleanup: Cleanup,
  opts: {
    upstream: string;
    socketPath: string;
    flags?: Record<string, string>;
    env?: Record<string, string | undefined>;
    nodeArgs?: string[];
  },
): Child {
  const flags = { ...FAST_FLAGS, "log-level": "info", upstream: opts.upstream, socket: opts.socketPath, ...opts.flags };
  return spawnCli(cleanup, ["daemon", ...toArgv(flags)], opts.env ?? { RUNWARE_API_KEY: TEST_KEY }, opts.nodeArgs);
}

/** A process's resident memory now and at its peak (VmRSS, VmHWM of /proc/<pid>/status), in bytes. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}

// --- small builders --------------------------------------------------------------------------------

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** Total submissions the simulator has seen (any taskUUID). */
export function submissions(sim: SimServer): number {
  return Object.values(sim.counters.received).reduce((a, b) => a + b, 0);
}
