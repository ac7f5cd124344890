/**
 * Where a pending task's memory goes: the daemon runs in THIS process (the simulator in its own),
 * 10,000 tasks are held pending upstream, and two heap snapshots (idle, pending; each after a
 * forced GC) are diffed by V8 node type and constructor. The bench's RSS figure includes garbage
 * and allocator slack; this one is the live heap only. Not part of `npm run bench` (it forces GC).
 * Usage: node --expose-gc dist/scripts/bench/heap-per-task.js
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeHeapSnapshot } from "node:v8";
import { connect } from "../../src/client/index.js";
import { loadDaemonConfig } from "../../src/local/config.js";
import { Daemon } from "../../src/local/daemon.js";
import { BENCH } from "./config.js";
import { makeTasks } from "./contenders.js";
import { cleanup, sleep, startSim, waitUntil } from "./procs.js";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

/** Self size summed per "type:name" (strings and code lumped together). */
function sizesByKind(file: string): { byKind: Map<string, number>; total: number } {
  const s = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf("type");
  const iName = fields.indexOf("name");
  const iSize = fields.indexOf("self_size");
  const byKind = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + iType] as number] ?? "?";
    const name = type.includes("string")
      ? "(strings)"
      : type === "code" || type === "hidden"
        ? `(${type})`
        : (s.strings[s.nodes[i + iName] as number] ?? "?");
    const key = `${type}: ${name}`.slice(0, 90);
    const size = s.nodes[i + iSize] as number;
    total += size;
    byKind.set(key, (byKind.get(key) ?? 0) + size);
  }
  return { byKind, total };
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  process.stderr.write("run with node --expose-gc\n");
  process.exit(2);
}
const N = BENCH.memoryPendingTasks;
const dir = mkdtempSync(join(tmpdir(), "rw-heap-"));
const pending: Array<Promise<unknown>> = [];
try {
  const sim = await startSim("sim(heap)", ["--work-ms", "0"]);
  const socket = join(dir, "d.sock");
  const cfg = loadDaemonConfig(
    ["--upstream", sim.url, "--socket", socket, "--max-in-flight", String(N), "--drain-timeout-ms", "0", "--state-dir", join(dir, "state")],
    {
      RUNWARE_API_KEY: BENCH.apiKey,
    },
  );
  const daemon = await Daemon.start(cfg);
  await waitUntil("upstream ready", () => daemon.engine.stats().upstream.state === "ready");
  const client = connect({ socket });
  for (let i = 0; i < BENCH.memoryBatchSize; i += 100) await client.run(makeTasks(100));
  await sleep(200);
  gc();
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const before = sizesByKind(writeHeapSnapshot(join(dir, "idle.heapsnapshot")));

  await sim.control("setWorkTime", { ms: BENCH.memoryWorkMs });
  for (let i = 0; i < N; i += BENCH.memoryBatchSize) pending.push(client.run(makeTasks(BENCH.memoryBatchSize)).catch(() => undefined));
  await waitUntil("every task pending upstream", () => daemon.engine.stats().tasks.inFlight === N);
  await sleep(300);
  gc();
  gc();
  const heap1 = process.memoryUsage().heapUsed;
  const after = sizesByKind(writeHeapSnapshot(join(dir, "pending.heapsnapshot")));

  process.stdout.write(
    `live heap per pending task: ${Math.round((heap1 - heap0) / N)} B (heapUsed), ${Math.round((after.total - before.total) / N)} B (snapshot)\n`,
  );
  process.stdout.write("(this process also holds the 10 client requests: their payload strings, a few hundred B/task)\n\n");
  const rows = [...after.byKind]
    .map(([k, v]): [string, number] => [k, (v - (before.byKind.get(k) ?? 0)) / N])
    .filter(([, v]) => v >= 1)
    .sort((a, b) => b[1] - a[1]);
  for (const [k, v] of rows.slice(0, 20)) process.stdout.write(`${Math.round(v).toString().padStart(6)} B/task  ${k}\n`);
  await daemon.stop();
} finally {
  await Promise.all(pending);
  await cleanup();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
