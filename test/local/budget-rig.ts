/**
 * The budget tests' rig: a real `runware daemon` process with shrunken byte budgets (a few MB) and
 * a V8 heap limit derived from them, against an in-process simulator whose base64 images are padded
 * to a chosen size (cheap big results). A daemon whose live memory passed its budgets' arithmetic
 * would die of the heap limit: the tests check it never exits, and read its peak RSS.
 */
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { SimServer, type SimOptions } from "../../src/sim/index.js";
import type { Cleanup } from "../helpers/cleanup.js";
import { getJson, memoryOf, spawnDaemon, tempDir, type Child } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";
import { waitFor } from "../helpers/wait.js";

export const MiB = 1024 * 1024;
/** Generous: a busy 2-core box starting node. */
const START_MS = 15_000;

/**
 * The daemon's old-generation heap limit: its own heap at rest (~10 MiB) and room for the tasks in
 * flight (results parsed from upstream frames, copies being encoded), on top of the budgets.
 */
const HEAP_BASE_MiB = 48;

export interface ProcRig {
  sim: SimServer;
  socketPath: string;
  daemon: Child;
  pid: number;
  /** Resident memory once ready, before any traffic. */
  baseline: number;
  /** The budgets given, summed (bytes): what the daemon may hold on top of its baseline. */
  budgets: number;
}

export interface ProcRigOptions {
  sim?: Partial<SimOptions>;
  /** Flags on top of the test defaults; the byte budgets among them are summed into `budgets`. */
  flags?: Record<string, string>;
}

/** Byte budgets given to every test daemon (each test shrinks the one it is about further). */
export const SMALL_BUDGETS: Readonly<Record<string, string>> = {
  "result-retention-bytes": String(8 * MiB),
  "max-reading-bytes": String(8 * MiB),
  "max-client-unsent-bytes": String(2 * MiB),
  "max-unsent-bytes": String(32 * MiB),
};

const BUDGET_FLAGS = ["result-retention-bytes", "max-reading-bytes", "max-unsent-bytes"];

export async function startDaemonProcess(cleanup: Cleanup, opts: ProcRigOptions = {}): Promise<ProcRig> {
  const dir = tempDir(cleanup, "rwd-budget-");
  const sim = cleanup.add(await SimServer.start({ workMs: 5, ...opts.sim }), (s) => s.close());
  const socketPath = join(dir, "run", "daemon.sock");
  const flags = { ...SMALL_BUDGETS, ...opts.flags };
  const budgets = BUDGET_FLAGS.reduce((n, f) => n + Number(flags[f]), 0);
  const heapMiB = HEAP_BASE_MiB + Math.ceil(budgets / MiB);
  const daemon = spawnDaemon(cleanup, { upstream: sim.url, socketPath, flags, nodeArgs: [`--max-old-space-size=${heapMiB}`] });
  await daemon.waitForLine("listening", START_MS);
  await waitFor(async () => (await getJson(socketPath, "/v1/status")).json?.["upstream"]?.state === "ready", "upstream ready", START_MS);
  const pid = daemon.child.pid!;
  return { sim, socketPath, daemon, pid, baseline: memoryOf(pid).rss, budgets };
}

/**
 * The most the daemon's RSS may reach: its baseline, its budgets, the heap headroom, and what V8
 * keeps outside the old generation (the young generation, up to 3 × 16 MiB semi-spaces in use) and
 * off the heap (socket buffers, frames being received).
 */
export function rssBound(rig: ProcRig): number {
  return rig.baseline + rig.budgets + HEAP_BASE_MiB * MiB + 64 * MiB;
}

/** The daemon is still running (and answering). */
export async function expectAlive(rig: ProcRig): Promise<void> {
  if (rig.daemon.child.exitCode !== null || rig.daemon.child.signalCode !== null)
    throw new Error(`the daemon exited (${rig.daemon.child.exitCode ?? rig.daemon.child.signalCode}); stderr: ${rig.daemon.stderr()}`);
  const status = await getJson(rig.socketPath, "/v1/status");
  if (status.status !== 200) throw new Error(`status answered ${status.status}`);
}

/** imageInference tasks with `n` base64 results each (their size is the simulator's `base64ResultChars`). */
export function base64Tasks(count: number, n: number): Array<Record<string, unknown> & { taskType: string; taskUUID: string }> {
  return Array.from({ length: count }, () => ({
    ...imageTask({ width: 128, height: 128, numberResults: n, outputType: "base64Data" }),
    taskUUID: randomUUID(),
  }));
}
