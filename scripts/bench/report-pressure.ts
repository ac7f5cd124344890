/**
 * The pressure phase in the report: its three targets (issue 11) and its section, a table of
 * what each stage put through the daemon and how every caller ended, then one of memory and status.
 */
import { TARGETS } from "./config.js";
import { gb, mib, ms } from "./format.js";
import type { PressureResult } from "./pressure.js";
import type { Target } from "./report.js";

export function pressureTargets(p: PressureResult): Target[] {
  const out: Target[] = [];
  out.push({
    name: "daemon peak RSS under pressure (VmHWM, default budgets)",
    target: `≤ ${mib(TARGETS.pressurePeakRssBytes)}`,
    measured: mib(p.peakRssBytes),
    met: p.peakRssBytes <= TARGETS.pressurePeakRssBytes,
  });
  out.push({
    name: "slowest GET /v1/status under pressure",
    target: `≤ ${ms(TARGETS.pressureSlowestStatusMs, 0)}`,
    measured: ms(p.slowestStatusMs, 0),
    met: p.slowestStatusMs <= TARGETS.pressureSlowestStatusMs && p.statusFailures === 0,
  });
  out.push({
    name: "callers left without an answer under pressure",
    target: "0",
    measured: `${p.unanswered} of ${p.callers}`,
    met: p.unanswered === 0,
  });
  return out;
}

/** What each pressure stage put through the daemon, for the table. */
const STAGE_LOAD: Record<string, (b: number) => string> = {
  results: (b) => `${gb(b)} of base64 results read through \`POST /v1\``,
  queued: (b) => `${gb(b)} of 30 MB inputs submitted, upstream down`,
  "non-readers": (b) => `${gb(b)} due to clients that never read`,
};

/** A stage's extra figures (pressure.ts `notes`), in words. */
const NOTE_WORDS: Record<string, string> = {
  resultItems: "result items",
  queuedWhileDown: "tasks queued while down",
  accepted: "accepted",
  tasksUnsettled: "tasks unsettled",
  bytesReadAfterResume: "bytes read on resuming",
  readBack200: "read back 200",
  readBack410: "read back 410 (evicted)",
};

export function pressureSection(p: PressureResult): string[] {
  const lines = ["", "### 7. Memory under pressure: one daemon at its default budgets (issue 11)", ""];
  const l = p.limits;
  const budget = (k: string) => (l[k] !== undefined ? mib(l[k]) : "—");
  lines.push(
    `Budgets (its /v1/status): results ${budget("resultRetentionBytes")}, queue ${budget("maxQueuedBytes")}, bodies being read ${budget("maxReadingBytes")}, unsent ${budget("maxUnsentBytes")} (per client ${budget("maxClientUnsentBytes")}), connections ${l["maxLocalConnections"] ?? "—"}. Idle RSS ${mib(p.idleRssBytes)}; **peak RSS (VmHWM) ${mib(p.peakRssBytes)}**; status polled ${p.statusPolls} times, slowest ${ms(p.slowestStatusMs, 0)}, ${p.statusFailures} without a 200; ${p.callers} callers, ${p.unanswered} unanswered. The bench process itself peaked at ${mib(p.benchPeakRssBytes)}.`,
    "",
  );
  lines.push("| stage | load | time | callers: how each ended | figures |");
  lines.push("| --- | --- | --- | --- | --- |");
  for (const s of p.stages) {
    const how = Object.entries(s.outcomes)
      .map(([label, n]) => `${n} × ${label}`)
      .join("; ");
    const notes = Object.entries(s.notes)
      .map(([k, v]) => `${NOTE_WORDS[k] ?? k}: ${v}`)
      .join(", ");
    const load = STAGE_LOAD[s.name]?.(s.bytes) ?? gb(s.bytes);
    lines.push(`| ${s.name} | ${load} | ${(s.wallMs / 1000).toFixed(1)} s | ${s.callers}: ${how} | ${notes || "—"} |`);
  }
  lines.push(
    "",
    "| stage | peak RSS sampled | VmHWM at its end | slowest status | at the peak: heap used (large objects) / external / rest | after a full GC at its plateau: RSS / heap used / external |",
  );
  lines.push("| --- | --- | --- | --- | --- | --- |");
  for (const s of p.stages) {
    const a = s.watch.atPeak;
    const peak = a ? `${mib(a.heapUsed)} (${mib(a.largeObjects)}) / ${mib(a.external)} / ${mib(a.rss - a.heapTotal - a.external)}` : "—";
    const v = s.watch.live;
    const live = v ? `${mib(v.rss)} / ${mib(v.heapUsed)} / ${mib(v.external)}` : "—";
    lines.push(
      `| ${s.name} | ${mib(s.watch.peakRssBytes)} | ${mib(s.watch.hwmBytes)} | ${ms(s.watch.slowestStatusMs, 0)} | ${peak} | ${live} |`,
    );
  }
  return lines;
}
