/** `npm run bench:listen`: the listener phase alone (listen-phase.ts), its result as JSON on stdout. */
import { listenPhase } from "./listen-phase.js";
import { cleanup } from "./procs.js";

try {
  const result = await listenPhase(
    { tasks: Number(process.env["LISTEN_BENCH_TASKS"] ?? 10_000), rounds: Number(process.env["LISTEN_BENCH_ROUNDS"] ?? 5) },
    (line) => process.stderr.write(`${line}\n`),
  );
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  await cleanup();
}
