/**
 * The async phase in the report: its three targets (issue 12) and its section, the images' latency
 * alone and beside the videos, then the makespan against the ideal and the polls per video.
 */
import type { AsyncResult, ImageRun } from "./async-mix.js";
import { BENCH, TARGETS } from "./config.js";
import { ms } from "./format.js";
import type { Target } from "./report.js";

const s = (v: number, digits = 1) => `${(v / 1000).toFixed(digits)} s`;

/** The images' p99 beside the videos over alone (the mean of the runs before and after). */
export function p99VsAlone(a: AsyncResult): number {
  return a.mixed.images.p99 / ((a.aloneBefore.p99 + a.aloneAfter.p99) / 2);
}

export function pollsPerVideo(a: AsyncResult): number {
  return a.videoPolls / a.videos;
}

/** Polls per video per 2 s of render; a quick run scales every duration, so its 2 s are scaled too. */
export function pollsPer2sRender(a: AsyncResult): number {
  return pollsPerVideo(a) / (a.renderMs / (2_000 * Math.min(1, a.timeScale)));
}

export function asyncTargets(a: AsyncResult): Target[] {
  const makespan = a.mixed.makespanMs / a.idealMs;
  const p99 = p99VsAlone(a);
  const polls = pollsPer2sRender(a);
  return [
    {
      name: `async: makespan of ${a.videos} videos + ${a.images} images vs ideal`,
      target: `≤ ${TARGETS.asyncMakespanVsIdeal}×`,
      measured: `${makespan.toFixed(3)}× (${s(a.mixed.makespanMs, 2)} / ${s(a.idealMs, 2)})`,
      met: makespan <= TARGETS.asyncMakespanVsIdeal,
    },
    {
      name: "async: images' p99 beside the videos vs alone",
      target: `≤ ${TARGETS.asyncImageP99VsAlone}×`,
      measured: `${p99.toFixed(2)}×`,
      met: p99 <= TARGETS.asyncImageP99VsAlone,
    },
    {
      name: "async: polls per video per 2 s of render",
      target: `≤ ${TARGETS.asyncPollsPer2sRender}`,
      measured: `${polls.toFixed(2)} (${pollsPerVideo(a).toFixed(1)} polls per video)`,
      met: polls <= TARGETS.asyncPollsPer2sRender,
    },
  ];
}

const row = (what: string, r: ImageRun) => `| ${what} | ${r.n} | ${s(r.wallMs, 2)} | ${ms(r.p50, 1)} | ${ms(r.p99, 1)} | ${ms(r.max, 1)} |`;

export function asyncSection(a: AsyncResult): string[] {
  const scaled = a.timeScale < 1 ? ` (every duration × ${a.timeScale}: the simulator's render and the daemon's poll cap)` : "";
  const lines = [
    "",
    `### 8. Async work beside images: ${a.videos} videos and ${a.images} images, daemon --max-in-flight ${a.maxInFlight} (issue 12)`,
    "",
    `Videos render ${s(a.renderMs, 0)} each${scaled}, sent as simply as images (no \`deliveryMethod\`, one \`POST /v1\` each; the daemon sends them async and polls, poll cap ${s(a.pollMaxMs)}). Images: ${a.imageWorkMs} ms of simulator work each, ${a.imageWorkers} workers in a closed loop, one image per \`POST /v1\`.`,
    "",
    "| images | count | wall time | p50 | p99 | max |",
    "| --- | --- | --- | --- | --- | --- |",
    row("alone, before", a.aloneBefore),
    row(`beside the ${a.videos} videos`, a.mixed.images),
    row("alone, after", a.aloneAfter),
    "",
    "| figure | value |",
    "| --- | --- |",
    `| makespan (videos and images sent at once → the last answered) | **${s(a.mixed.makespanMs, 2)}** |`,
    `| ideal: max(render ${s(a.renderMs, 1)}, images alone ${s((a.aloneBefore.wallMs + a.aloneAfter.wallMs) / 2, 2)}) | ${s(a.idealMs, 2)} (${(a.mixed.makespanMs / a.idealMs).toFixed(3)}×) |`,
    `| each video, sent → result | median ${s(a.mixed.videoMs.median, 2)}, ${s(a.mixed.videoMs.min, 2)}–${s(a.mixed.videoMs.max, 2)} |`,
    `| images' p50 / p99 beside the videos vs alone (mean of before and after) | ${(a.mixed.images.p50 / ((a.aloneBefore.p50 + a.aloneAfter.p50) / 2)).toFixed(2)}× / ${p99VsAlone(a).toFixed(2)}× |`,
    `| video polls (simulator's \`pollsByTaskType\`) | ${a.videoPolls}: ${pollsPerVideo(a).toFixed(1)} per video, ${pollsPer2sRender(a).toFixed(2)} per 2 s of render, in ${a.pollFrames} frames |`,
    `| image polls | ${a.imagePolls} |`,
    `| daemon status every ${BENCH.async.statusEveryMs} ms during the run | up to ${a.status.maxAsyncHeld} async tasks held; in the ${a.status.samplesAllHeld} samples with all ${a.videos} held (from ${BENCH.async.settleMs} ms on), up to ${a.status.maxInFlightAllHeld} of ${a.maxInFlight} slots in use |`,
  ];
  return lines;
}
