/**
 * The async phase (issue 12): videos and images at once through one daemon at --max-in-flight 4,
 * on a simulator of its own with the default image work time (20 ms) and the default video render
 * (60 s, × the scale's time scale). Three runs on the same daemon: images alone, images beside
 * the videos, images alone again. The videos go as simply as images (no `deliveryMethod`, one
 * `POST /v1` each): the daemon sends them async and polls for them. Polls are counted by the
 * simulator (`pollsByTaskType`). Its own simulator and daemon are stopped before it returns.
 */
import { connect } from "../../src/client/index.js";
import { SIM_DEFAULTS, VIDEO_MODELS } from "../../src/sim/index.js";
import { BENCH, type AsyncScale } from "./config.js";
import { daemonHttp, makeTasks, type Runner } from "./contenders.js";
import { startDaemon, startDaemonWith, startSim, type DaemonProc } from "./procs.js";
import { latencySummary, median, type LatencySummary } from "./stats.js";

const A = BENCH.async;

export interface ImageRun extends LatencySummary {
  /** First request sent → last image answered. */
  wallMs: number;
}

export interface AsyncResult {
  videos: number;
  images: number;
  maxInFlight: number;
  imageWorkers: number;
  timeScale: number;
  /** A video's render time at this run's scale. */
  renderMs: number;
  /** The simulator's work time per image. */
  imageWorkMs: number;
  /** The daemon's poll cap in this run (its default, × the time scale below 1). */
  pollMaxMs: number;
  aloneBefore: ImageRun;
  aloneAfter: ImageRun;
  mixed: {
    /** Start of the run → the last video and the last image answered. */
    makespanMs: number;
    images: ImageRun;
    /** Each video's submission → its result, in ms. */
    videoMs: { median: number; min: number; max: number };
  };
  /** max(render time, images alone wall time: the mean of the runs before and after). */
  idealMs: number;
  videoPolls: number;
  /** getResponse polls of the images (sync tasks are answered without polling: expected 0). */
  imagePolls: number;
  /** Inbound frames carrying polls (the daemon puts the polls due together in one frame). */
  pollFrames: number;
  /** From GET /v1/status during the mixed run (watchStatus). */
  status: { maxAsyncHeld: number; samplesAllHeld: number; maxInFlightAllHeld: number };
}

/** `n` images through `workers` single-image runners in a closed loop; each request's latency. */
async function imageLoop(run: Runner, workers: number, n: number): Promise<ImageRun> {
  const all = makeTasks(n);
  const samples: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < all.length) {
      const task = all[next++]!;
      const t0 = performance.now();
      await run([task]);
      samples.push(performance.now() - t0);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: workers }, worker));
  return { ...latencySummary(samples), wallMs: performance.now() - t0 };
}

/** One video as a caller sends an image: no deliveryMethod; resolves with its submission → result time. */
async function runVideo(socket: string, i: number): Promise<number> {
  const client = connect({ socket });
  const t0 = performance.now();
  const env = await client.run([
    {
      taskType: "videoInference",
      model: VIDEO_MODELS[i % VIDEO_MODELS.length],
      positivePrompt: `bench video ${i}`,
      duration: 5,
      width: 1280,
      height: 720,
    },
  ]);
  const ms = performance.now() - t0;
  if (env.errors?.length) throw new Error(`video ${i}: ${env.errors[0]?.code}: ${env.errors[0]?.message}`);
  if (typeof env.data[0]?.["videoURL"] !== "string") throw new Error(`video ${i}: no videoURL in ${JSON.stringify(env.data)}`);
  return ms;
}

/**
 * Sample the daemon's status until `stop` settles: the most async tasks held, and the most slots in
 * use in samples taken while every video was held, from `settleMs` on (by then each has had its
 * acknowledgement, which takes a slot for a moment: the slots in use after that are the images').
 */
async function watchStatus(daemon: DaemonProc, videos: number, stop: Promise<unknown>): Promise<AsyncResult["status"]> {
  const run = { done: false };
  const end = () => {
    run.done = true;
  };
  stop.then(end, end);
  const t0 = performance.now();
  const out: AsyncResult["status"] = { maxAsyncHeld: 0, samplesAllHeld: 0, maxInFlightAllHeld: 0 };
  while (!run.done) {
    const t = (await daemon.status()).tasks;
    out.maxAsyncHeld = Math.max(out.maxAsyncHeld, t.async);
    if (t.async === videos && performance.now() - t0 >= A.settleMs) {
      out.samplesAllHeld++;
      out.maxInFlightAllHeld = Math.max(out.maxInFlightAllHeld, t.inFlight);
    }
    await Promise.race([stop, new Promise((r) => setTimeout(r, A.statusEveryMs))]).catch(() => undefined);
  }
  return out;
}

export async function asyncMix(scale: AsyncScale, log: (msg: string) => void): Promise<AsyncResult> {
  const renderMs = SIM_DEFAULTS.videoRenderMs * scale.timeScale;
  const sim = await startSim("sim(async)", ["--time-scale", String(scale.timeScale)]);
  const flags = ["--max-in-flight", String(A.maxInFlight)];
  // At full scale the daemon as users run it; a quick run scales its poll cap (no flag) with the render.
  const pollMaxMs = A.pollMaxMs * Math.min(1, scale.timeScale);
  const daemon =
    scale.timeScale >= 1
      ? await startDaemon("daemon(async)", sim.url, flags)
      : await startDaemonWith("daemon(async)", sim.url, { pollMaxMs }, flags);
  try {
    const images = daemonHttp("async images", daemon.socket, 1).runners[0]!;
    await imageLoop(images, A.imageWorkers, scale.warmupImages);
    const aloneBefore = await imageLoop(images, A.imageWorkers, scale.images);
    log(
      `async: ${scale.images} images alone in ${(aloneBefore.wallMs / 1000).toFixed(2)} s, p50 ${aloneBefore.p50.toFixed(1)} ms, p99 ${aloneBefore.p99.toFixed(1)} ms`,
    );

    await sim.control("resetCounters");
    log(
      `async: ${scale.videos} videos (render ${(renderMs / 1000).toFixed(0)} s, poll cap ${pollMaxMs} ms) beside ${scale.images} images...`,
    );
    const t0 = performance.now();
    const videos = Promise.all(Array.from({ length: scale.videos }, (_, i) => runVideo(daemon.socket, i)));
    const imagesRun = imageLoop(images, A.imageWorkers, scale.images);
    const all = Promise.all([videos, imagesRun]);
    const [watched, [videoMs, mixedImages]] = await Promise.all([watchStatus(daemon, scale.videos, all), all]);
    const makespanMs = performance.now() - t0;
    const counters = await sim.counters();
    log(
      `async: mixed makespan ${(makespanMs / 1000).toFixed(2)} s; images p50 ${mixedImages.p50.toFixed(1)} ms, p99 ${mixedImages.p99.toFixed(1)} ms; videos ${(Math.min(...videoMs) / 1000).toFixed(2)}–${(Math.max(...videoMs) / 1000).toFixed(2)} s; polls ${JSON.stringify(counters.pollsByTaskType)} in ${counters.pollFrames} frames`,
    );

    const aloneAfter = await imageLoop(images, A.imageWorkers, scale.images);
    log(
      `async: images alone again in ${(aloneAfter.wallMs / 1000).toFixed(2)} s, p50 ${aloneAfter.p50.toFixed(1)} ms, p99 ${aloneAfter.p99.toFixed(1)} ms`,
    );
    return {
      videos: scale.videos,
      images: scale.images,
      maxInFlight: A.maxInFlight,
      imageWorkers: A.imageWorkers,
      timeScale: scale.timeScale,
      renderMs,
      imageWorkMs: SIM_DEFAULTS.workMs,
      pollMaxMs,
      aloneBefore,
      aloneAfter,
      mixed: {
        makespanMs,
        images: mixedImages,
        videoMs: { median: median(videoMs), min: Math.min(...videoMs), max: Math.max(...videoMs) },
      },
      idealMs: Math.max(renderMs, (aloneBefore.wallMs + aloneAfter.wallMs) / 2),
      videoPolls: counters.pollsByTaskType["videoInference"] ?? 0,
      imagePolls: counters.pollsByTaskType["imageInference"] ?? 0,
      pollFrames: counters.pollFrames,
      status: watched,
    };
  } finally {
    await daemon.child.kill();
    await sim.child.kill();
  }
}
