/** The human summary of a chaos run (what `node dist/scripts/chaos.js` prints). */
import type { ChaosReport } from "./run.js";

const ms = (v: number) => `${v.toFixed(0)} ms`;

function stats(values: readonly number[]): string {
  if (values.length === 0) return "-";
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] as number;
  return `median ${ms(q(0.5))}, p90 ${ms(q(0.9))}, max ${ms(s[s.length - 1] as number)}`;
}

export function formatReport(r: ChaosReport): string {
  const t = r.tasks;
  const u = r.upstream;
  const lines = [
    `chaos run, seed ${r.seed} (replay: node dist/scripts/chaos.js --seed ${r.seed}${r.config.tasks !== 6000 ? ` --tasks ${r.config.tasks} --faults ${r.config.faults}` : ""})`,
    `  wall time ${(r.wallMs / 1000).toFixed(1)} s`,
    `  tasks: ${t.total} (${Object.entries(t.byVia)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ")}; ${t.async} async)`,
    `    done ${t.done} (${t.results} results), failed ${t.failed} ${JSON.stringify(t.failedByCode)}, in-doubt ${t.inDoubt}, unanswered ${t.unsettled}`,
    `  upstream: ${u.submissions} submissions (at most ${u.maxReceived} for one taskUUID), ${u.getResponses} getResponse, ${u.conflicts} conflictTaskUUID`,
    `    ${u.connections} connections, ${u.auths} authentications (${u.resumed} resumed, ${u.fresh} fresh sessions), max outstanding ${u.maxOutstanding}/${r.config.engine.maxInFlight}`,
    `    ${r.retries} transient retries, ${u.garbageSent} garbage frames`,
    `  faults: ${r.faults.length} injected`,
  ];
  for (const [kind, k] of Object.entries(r.faultsByKind)) {
    lines.push(
      `    ${kind.padEnd(13)} ×${String(k.count).padStart(3)}  link dropped ${k.detected}×  detect (ready link): ${stats(k.detectMs)}  ready again: ${stats(k.recoverMs)}`,
    );
  }
  lines.push(
    `  logs at trace: ${r.logs.lines} lines (${(r.logs.bytes / 1048576).toFixed(1)} MiB) ${JSON.stringify(r.logs.byLevel)}; API key found in ${r.logs.secretLeaks}`,
    `  leaks: ${r.leaks.timersLeft} engine timers, ${r.leaks.pendingLeft} pending tasks, extra handles ${JSON.stringify(r.leaks.extraHandles)}, heap ${(r.leaks.heapGrowthBytes / 1048576).toFixed(1)} MiB over baseline`,
  );
  if (r.violations.length === 0) lines.push("  invariants: all held");
  else {
    lines.push(`  INVARIANTS VIOLATED: ${r.violations.length}`);
    for (const v of r.violations) {
      lines.push(`    ✗ ${v.invariant} (${v.count}×)`);
      for (const ex of v.examples) lines.push(`        ${ex}`);
    }
  }
  return lines.join("\n");
}
