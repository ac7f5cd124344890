/**
 * Running the real `runware` command (the build: `node dist/src/cli/main.js ...`) as a child process
 * and reading what a user sees: stdout, stderr, exit code, files. Also: reading PNG headers, and
 * reaping daemons that a verb started in the background (they are detached, so killing the CLI child
 * does not end them; their pid file sits beside the socket).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Cleanup } from "./cleanup.js";
import { childEnv, CLI_MAIN } from "./daemon.js";
import { waitFor } from "./wait.js";

/** Generous for a busy 2-core box: one CLI child normally takes 100-300 ms. */
export const CLI_TIMEOUT_MS = 15_000;

export interface CliOptions {
  /** Extra environment; every RUNWARE_* variable of ours is removed first. */
  env?: Record<string, string | undefined>;
  /** Written to the child's stdin, which is then closed (stdin is empty otherwise). */
  stdin?: string;
  timeoutMs?: number;
  /** Working directory of the child (default: the test's). */
  cwd?: string;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Settles when the process has exited and its output is fully read. */
  result: Promise<CliResult>;
}

/** Start `runware <args>`; SIGKILLed at cleanup if still running. */
export function startCli(cleanup: Cleanup, args: string[], opts: CliOptions = {}): RunningCli {
  if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: run \`npm run build\` first`);
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    env: childEnv(opts.env ?? {}),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  // A child that exits before reading stdin must not crash the test with EPIPE.
  child.stdin.on("error", () => undefined);
  child.stdin.end(opts.stdin ?? "");
  // "close", not "exit": stdout and stderr are drained by then.
  const result = new Promise<CliResult>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal, stdout: out, stderr: err })),
  );
  let gone = false;
  void result.then(() => (gone = true));
  cleanup.defer(async () => {
    if (!gone) child.kill("SIGKILL");
    await result;
  });
  return { child, stdout: () => out, stderr: () => err, result };
}

/** Run `runware <args>` to completion; fails (with its output) if it takes longer than `timeoutMs`. */
export async function runCli(cleanup: Cleanup, args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const running = startCli(cleanup, args, opts);
  const timeoutMs = opts.timeoutMs ?? CLI_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      running.child.kill("SIGKILL");
      reject(
        new Error(
          `runware ${args.join(" ")}: still running after ${timeoutMs} ms\nstdout: ${running.stdout()}\nstderr: ${running.stderr()}`,
        ),
      );
    }, timeoutMs);
  });
  try {
    return await Promise.race([running.result, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function parseStdout(r: CliResult): unknown {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.code}):\n${r.stdout}\nstderr: ${r.stderr}`);
  }
}

/** stdout parsed as one JSON object (with the output in the message when it is not JSON). */
export function stdoutJson(r: CliResult): Record<string, unknown> {
  return parseStdout(r) as Record<string, unknown>;
}

/** Runware's envelope, as a client verb prints it. */
export interface PrintedEnvelope {
  data: Array<Record<string, unknown>>;
  errors?: Array<Record<string, unknown>>;
}

/** stdout parsed as Runware's envelope. */
export function stdoutEnvelope(r: CliResult): PrintedEnvelope {
  return parseStdout(r) as PrintedEnvelope;
}

/** stdout parsed as JSON lines (blank lines ignored). */
export function stdoutLines<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as T);
}

// --- PNG -----------------------------------------------------------------------------------------

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Signature (8) + IHDR length (4) + "IHDR" (4) + width (4) + height (4). */
const PNG_HEADER_BYTES = 24;

/** Width and height from a PNG's IHDR chunk, or undefined when the bytes are not a PNG. */
export function pngSize(bytes: Buffer): { width: number; height: number } | undefined {
  if (bytes.length < PNG_HEADER_BYTES || !bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return undefined;
  if (bytes.subarray(12, 16).toString("latin1") !== "IHDR") return undefined;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

// --- background daemons --------------------------------------------------------------------------

/** The pid file a background daemon writes beside its socket (daemonFiles in src/paths.ts). */
export function pidFileOf(socketPath: string): string {
  return join(dirname(socketPath), "daemon.pid");
}

/** The log a background daemon writes beside its socket; it appears as a verb decides to start one. */
export function logFileOf(socketPath: string): string {
  return join(dirname(socketPath), "daemon.log");
}

export function readPid(socketPath: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFileOf(socketPath), "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a process runs. A detached daemon whose parent (the CLI child) exited is re-parented, and
 * in a container nobody may reap it: a zombie counts as gone.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; comm may hold spaces, so read after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true; // no /proc (macOS): kill(0) said it exists
  }
}

/**
 * Pids of running `runware daemon --socket <socketPath>` processes (zombies have no cmdline), found
 * through /proc (Linux). The socket path lives in the test's own mkdtemp directory, so this matches
 * only the test's daemons.
 */
export function daemonsOnSocket(socketPath: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0");
      const i = argv.indexOf("--socket");
      // node [--max-old-space-size=N ...] main.js daemon ... --socket PATH
      const main = argv.indexOf(CLI_MAIN);
      if (main > 0 && argv[main + 1] === "daemon" && i > 0 && argv[i + 1] === socketPath) pids.push(Number(e));
    } catch {
      /* exited meanwhile */
    }
  }
  return pids;
}

/**
 * Make sure no background daemon on `socketPath` outlives the test: at cleanup, every pid seen in
 * its pid file (now, via `note()`, or at cleanup time) or found running on that socket is SIGKILLed.
 */
export function reapBackgroundDaemon(cleanup: Cleanup, socketPath: string): { note: () => number | undefined } {
  const pids = new Set<number>();
  const note = () => {
    const pid = readPid(socketPath);
    if (pid !== undefined) pids.add(pid);
    return pid;
  };
  cleanup.defer(async () => {
    note();
    for (const pid of daemonsOnSocket(socketPath)) pids.add(pid);
    for (const pid of pids) {
      if (!isAlive(pid)) continue;
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone meanwhile */
      }
      await waitFor(() => !isAlive(pid), `background daemon ${pid} to die`);
    }
  });
  return { note };
}
