/**
 * The child processes of a bench run: the simulator and daemons (long-lived), and the fresh
 * processes of the cold and start-up runs. Every child is tracked from the moment it is spawned and
 * killed by its pid when the run ends, fails or is interrupted; nothing is killed by name.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, type Status } from "../../src/client/index.js";
import { loadSettings } from "../../src/local/config.js";
import { heapFlag } from "../../src/local/heap.js";
import type { SimCounters } from "../../src/sim/index.js";
import { BENCH } from "./config.js";

const HERE = dirname(fileURLToPath(import.meta.url));
/** dist/src/cli/main.js, next to this compiled file's dist/scripts/bench/. */
export const CLI = resolve(HERE, "../../src/cli/main.js");
/** The fresh sdk-js script of the cold one-shot run. */
export const SDK_ONESHOT = join(HERE, "sdk-oneshot.js");
/** The simulator with options the CLI has no flag for (pressure phase). */
const OPTIONS_SIM = join(HERE, "options-sim.js");
/** The daemon with settings that have no flag (the async phase's scaled poll cap). */
const OPTIONS_DAEMON = join(HERE, "options-daemon.js");

/** Keep this much of a child's output, for the error message when it fails. */
const OUTPUT_TAIL_BYTES = 16 * 1024;

const live = new Set<Child>();
const tempDirs: string[] = [];

class Child {
  readonly proc: ChildProcess;
  private tail = "";
  private lineWaiters: Array<{ re: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];
  /** Resolves with the exit code (-1 for a signal) as soon as the process ends. */
  readonly exited: Promise<number | null>;
  /** Resolves once the process ended and its output has been read to the end. */
  readonly closed: Promise<void>;

  constructor(
    readonly name: string,
    args: string[],
    env: NodeJS.ProcessEnv = {},
  ) {
    this.proc = spawn(process.execPath, args, {
      env: { ...cleanEnv(), ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    live.add(this);
    this.exited = new Promise((res) => {
      this.proc.once("exit", (code, signal) => {
        live.delete(this);
        res(code ?? (signal ? -1 : null));
      });
      this.proc.once("error", () => {
        live.delete(this);
        res(-1);
      });
    });
    this.closed = new Promise((res) => this.proc.once("close", () => res()));
    const onData = (chunk: Buffer) => {
      this.tail = (this.tail + chunk.toString()).slice(-OUTPUT_TAIL_BYTES);
      for (const w of this.lineWaiters) {
        const m = this.tail.match(w.re);
        if (m) {
          this.lineWaiters = this.lineWaiters.filter((x) => x !== w);
          w.resolve(m);
        }
      }
    };
    this.proc.stdout?.on("data", onData);
    this.proc.stderr?.on("data", onData);
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  get output(): string {
    return this.tail;
  }

  /** Resolves with the first match of `re` in the output; rejects if the child exits first or after the timeout. */
  waitFor(re: RegExp, timeoutMs: number = BENCH.waitTimeoutMs): Promise<RegExpMatchArray> {
    const already = this.tail.match(re);
    if (already) return Promise.resolve(already);
    return new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`${this.name}: no ${re} within ${timeoutMs} ms; output:\n${this.tail}`)), timeoutMs);
      this.lineWaiters.push({
        re,
        resolve: (m) => {
          clearTimeout(timer);
          res(m);
        },
      });
      void this.exited.then((code) => {
        clearTimeout(timer);
        rej(new Error(`${this.name} exited (${code}) before printing ${re}; output:\n${this.tail}`));
      });
    });
  }

  /** SIGTERM, then SIGKILL after the grace period; resolves once it is gone. */
  async kill(graceMs: number = BENCH.killGraceMs): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill("SIGTERM");
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** The bench's environment minus anything that would steer a child elsewhere (a user's daemon, key or upstream). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ["RUNWARE_API_KEY", "RUNWARE_SOCKET", "RUNWARE_URL", "RUNWARE_LOG_LEVEL", "NODE_OPTIONS"]) delete env[k];
  return env;
}

/** A private 0700 directory for sockets and probe files, removed at the end. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "rw-bench-"));
  tempDirs.push(dir);
  return dir;
}

/** Kill every child still alive and remove the temp dirs. Safe to call more than once. */
export async function cleanup(): Promise<void> {
  await Promise.all([...live].map((c) => c.kill()));
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface Sim {
  child: Child;
  /** ws://127.0.0.1:PORT/v1 */
  url: string;
  /** http://127.0.0.1:PORT, for the /_sim controls. */
  httpUrl: string;
  control(name: string, body?: unknown): Promise<void>;
  counters(): Promise<SimCounters>;
}

/** `runware sim --port 0 ...` in its own process; resolves once it listens. */
export function startSim(name: string, args: string[]): Promise<Sim> {
  return simOf(new Child(name, [CLI, "sim", "--port", "0", ...args]));
}

/** The simulator with any `SimOptions` (JSON-able ones) in its own process (options-sim.ts). */
export function startSimWith(name: string, options: Record<string, unknown>): Promise<Sim> {
  return simOf(new Child(name, [OPTIONS_SIM, JSON.stringify(options)]));
}

async function simOf(child: Child): Promise<Sim> {
  const m = await child.waitFor(/listening on (ws:\/\/\S+) \(images (http:\/\/\S+)\)/);
  const url = m[1] as string;
  const httpUrl = m[2] as string;
  return {
    child,
    url,
    httpUrl,
    async control(control, body = {}) {
      const res = await fetch(`${httpUrl}/_sim/${control}`, { method: "POST", body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`sim control ${control}: HTTP ${res.status} ${await res.text()}`);
    },
    async counters() {
      const res = await fetch(`${httpUrl}/_sim/counters`);
      return (await res.json()) as SimCounters;
    },
  };
}

export interface DaemonProc {
  child: Child;
  socket: string;
  status(): Promise<Status>;
}

/**
 * `runware daemon` in its own process against `upstream`, on a socket in a fresh temp dir; resolves
 * once its upstream link is ready. `nodeArgs` go before the script (e.g. --cpu-prof). It gets the
 * heap limit `runware start` gives a daemon with these flags (src/local/heap.ts), so what is
 * measured is what users run.
 */
export function startDaemon(
  name: string,
  upstream: string,
  args: string[],
  nodeArgs: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<DaemonProc> {
  const heap = nodeArgs.some((a) => a.startsWith("--max-old-space-size")) ? [] : [heapFlag(loadSettings(args, {}))];
  return daemonOf(name, (socket) => [...heap, ...nodeArgs, CLI, "daemon", ...daemonArgs(upstream, socket, args)], env);
}

/** The daemon with any settings (JSON-able ones, DaemonConfig names) over its flags, in its own process (options-daemon.ts). */
export function startDaemonWith(name: string, upstream: string, settings: Record<string, unknown>, args: string[]): Promise<DaemonProc> {
  const heap = heapFlag({ ...loadSettings(args, {}), ...settings });
  return daemonOf(name, (socket) => [heap, OPTIONS_DAEMON, JSON.stringify(settings), ...daemonArgs(upstream, socket, args)], {});
}

function daemonArgs(upstream: string, socket: string, args: string[]): string[] {
  // The journal (on unless args say --no-journal) in the daemon's own temp directory.
  return [
    "--upstream",
    upstream,
    "--socket",
    socket,
    "--state-dir",
    join(dirname(socket), "state"),
    "--log-level",
    "warn",
    "--drain-timeout-ms",
    "0",
    ...args,
  ];
}

async function daemonOf(name: string, argv: (socket: string) => string[], env: NodeJS.ProcessEnv): Promise<DaemonProc> {
  const socket = join(tempDir(), "d.sock");
  const child = new Child(name, argv(socket), { ...env, RUNWARE_API_KEY: BENCH.apiKey });
  const client = connect({ socket });
  const status = () => client.status();
  await waitUntil(`${name} ready`, async () => {
    if (child.proc.exitCode !== null) throw new Error(`${name} exited (${child.proc.exitCode}); output:\n${child.output}`);
    try {
      return (await status()).upstream.state === "ready";
    } catch {
      return false;
    }
  });
  return { child, socket, status };
}

/** Poll `cond` every few ms until it holds. */
export async function waitUntil(
  what: string,
  cond: () => Promise<boolean> | boolean,
  timeoutMs: number = BENCH.waitTimeoutMs,
  everyMs = 10,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A process's resident set size in bytes, from /proc/<pid>/status (VmRSS, reported in kB). */
export function rssBytes(pid: number): number {
  return procStatusBytes(pid, "VmRSS");
}

/** The largest resident set size the process ever had (VmHWM, the kernel's high-water mark). */
export function peakRssBytes(pid: number): number {
  return procStatusBytes(pid, "VmHWM");
}

function procStatusBytes(pid: number, field: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no ${field} for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** A TCP port free on loopback right now (for a simulator that must come back on the same port). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? res(addr.port) : rej(new Error("no port"))));
    });
  });
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on every Linux we target). */
const USER_HZ = 100;

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat; 10 ms resolution. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may contain spaces) start at ") "; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
}

/** CPU time of this process so far, in ms. */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Wall time of a fresh `node ARGS` process from spawn to exit; throws on a non-zero exit or a missing `expect` in its output. */
export async function timeFreshProcess(name: string, args: string[], expect?: RegExp, env: NodeJS.ProcessEnv = {}): Promise<number> {
  const t0 = performance.now();
  const child = new Child(name, args, env);
  const code = await child.exited;
  const ms = performance.now() - t0;
  await child.closed;
  if (code !== 0) throw new Error(`${name} exited ${code}; output:\n${child.output}`);
  if (expect && !expect.test(child.output)) throw new Error(`${name}: output lacks ${expect}:\n${child.output}`);
  return ms;
}
