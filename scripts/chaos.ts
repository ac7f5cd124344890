/**
 * `node dist/scripts/chaos.js [--seed N] [--tasks N] [--faults N] [--json FILE]`: the full chaos run
 * (docs/local-api.md §3 under faults nobody scripted one by one). Prints the seed first, a summary at the end;
 * exit 0 when every invariant held, 1 otherwise. The same seed replays the same tasks and faults.
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { FULL, QUICK } from "./chaos/config.js";
import { formatReport } from "./chaos/report.js";
import { randomSeed } from "./chaos/rng.js";
import { runChaos } from "./chaos/run.js";

const USAGE = `usage: node dist/scripts/chaos.js [--seed N] [--quick] [--tasks N] [--faults N] [--json FILE]
  --seed N     replay a run (default: a random seed, printed)
  --quick      the reduced run of test/reliability/chaos.test.ts (${QUICK.tasks} tasks, ${QUICK.faults} faults)
  --tasks N    tasks in total (default ${FULL.tasks})
  --faults N   faults injected (default ${FULL.faults})
  --json FILE  also write the full report as JSON`;

function positiveInt(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        seed: { type: "string" },
        tasks: { type: "string" },
        faults: { type: "string" },
        json: { type: "string" },
        quick: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const seed = positiveInt("seed", values.seed, randomSeed());
  const preset = values.quick ? QUICK : FULL;
  const cfg = {
    ...preset,
    seed,
    tasks: positiveInt("tasks", values.tasks, preset.tasks),
    faults: positiveInt("faults", values.faults, preset.faults),
  };
  console.log(`chaos: seed ${seed}`);
  const report = await runChaos(cfg, (line) => console.log(line));
  console.log(formatReport(report));
  if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2));
  process.exitCode = report.violations.length === 0 ? 0 : 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
