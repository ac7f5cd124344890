/**
 * Every knob of the simulator in one documented object. Defaults mirror Runware where its docs
 * state a fact (docs/protocol.md §2: 120 s idle close, 120 s resume buffer); every duration is an
 * option so tests can shrink it to milliseconds.
 */
import type { Logger } from "pino";

/** How the `numberResults` items of one task are spread over frames (docs/protocol.md §3.3). */
export type SplitMode = "random" | "single" | "each";
/** Where a failed generation appears in a `getResponse` reply (docs/protocol.md §4.2: both forms exist). */
export type AsyncErrorForm = "top" | "item";

export interface SimOptions {
  /** Interface to listen on. Loopback only by default: the simulator has no auth worth the name. */
  host: string;
  /** TCP port; 0 picks a free one (read it back from `sim.url`). */
  port: number;
  /** API keys answered with `invalidApiKey`. Any other non-empty key is accepted. */
  rejectedKeys: string[];
  /** Close a connection this long after the last frame in either direction (Runware: 120 s, §2.4). */
  idleCloseMs: number;
  /** Keep a disconnected session and its undelivered frames this long (Runware: 120 s, §2.3). */
  resumeBufferMs: number;
  /** Time a task takes to produce all its results; its items finish at moments spread over this time. */
  workMs: number;
  /**
   * Render time of a `videoInference` at `timeScale` 1: Runware's video takes minutes (docs/protocol.md
   * §4), so the default is a minute; its items finish at moments spread over it, like `workMs`.
   */
  videoRenderMs: number;
  /** Render time of an `audioInference` at `timeScale` 1. */
  audioRenderMs: number;
  /**
   * Multiplies the render times above (`runware sim --time-scale`): 0.001 turns a 60 s video into 60 ms.
   * Only the media render times scale; `workMs` and every other duration are already absolute.
   */
  timeScale: number;
  /** One-way delay added to every inbound frame before processing and to every outbound frame (order kept). */
  latencyMs: number;
  /** Extra time before an `authentication` task is answered. */
  authDelayMs: number;
  /** How a task's result items are grouped into frames. */
  split: SplitMode;
  /** When > 0, task outputs of one session produced within this window share one frame (frames mix tasks). */
  coalesceMs: number;
  /** Form of failed generations in `getResponse` replies. */
  asyncErrorForm: AsyncErrorForm;
  /** Include `status: "processing"` in the async acknowledgement (the docs do not say; §4.1). */
  asyncAckStatus: boolean;
  /** How long a finished task stays answerable by `getResponse` (and blocks its taskUUID). */
  taskRetentionMs: number;
  /** Seed of the PRNG behind every random choice (frame splits, random image seeds, error rates). */
  seed: number;
  /**
   * Largest inbound message; a larger one closes the connection with 1009 (message too big), as a
   * WebSocket server with a payload limit does. Runware documents no limit (docs/protocol.md); 0: none.
   */
  maxMessageBytes: number;
  /**
   * When > 0, every `base64Data` and `dataURI` image is padded to at least this many base64
   * characters with a private PNG chunk decoders skip (png.ts `padPng`): benchmarks move large
   * results without rendering large images. 0: the rendered PNG as it is.
   */
  base64ResultChars: number;
  /** Close the socket after answering an auth failure (Runware's behaviour is unknown, §2.2). */
  closeOnAuthFailure: boolean;
  /** Optional pino logger; the simulator is silent without one. */
  logger: Logger | undefined;
}

export const SIM_DEFAULTS: Readonly<SimOptions> = Object.freeze({
  host: "127.0.0.1",
  port: 0,
  rejectedKeys: [],
  idleCloseMs: 120_000,
  resumeBufferMs: 120_000,
  workMs: 20,
  videoRenderMs: 60_000,
  audioRenderMs: 15_000,
  timeScale: 1,
  latencyMs: 0,
  authDelayMs: 0,
  split: "random",
  coalesceMs: 0,
  asyncErrorForm: "top",
  asyncAckStatus: false,
  maxMessageBytes: 0,
  base64ResultChars: 0,
  taskRetentionMs: 600_000,
  seed: 0x5eed,
  closeOnAuthFailure: false,
  logger: undefined,
});

/** A padded image is built whole in memory for each result: keep one well below what a frame can carry. */
const MAX_BASE64_RESULT_CHARS = 64 * 1024 * 1024;

export function resolveOptions(partial: Partial<SimOptions> = {}): SimOptions {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const opts: SimOptions = { ...SIM_DEFAULTS, ...defined, rejectedKeys: [...(partial.rejectedKeys ?? SIM_DEFAULTS.rejectedKeys)] };
  for (const key of [
    "idleCloseMs",
    "resumeBufferMs",
    "workMs",
    "videoRenderMs",
    "audioRenderMs",
    "latencyMs",
    "authDelayMs",
    "coalesceMs",
    "taskRetentionMs",
  ] as const) {
    checkDuration(key, opts[key]);
  }
  checkScale(opts.timeScale);
  const chars = opts.base64ResultChars;
  if (!Number.isInteger(chars) || chars < 0 || chars > MAX_BASE64_RESULT_CHARS)
    throw new RangeError(`base64ResultChars must be an integer in 0..${MAX_BASE64_RESULT_CHARS}, got ${String(chars)}`);
  return opts;
}

export function checkDuration(name: string, ms: number): void {
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0)
    throw new RangeError(`${name} must be a finite number >= 0, got ${String(ms)}`);
}

/** A time scale is a finite factor >= 0 (0: media renders at once). */
export function checkScale(scale: number): void {
  if (typeof scale !== "number" || !Number.isFinite(scale) || scale < 0)
    throw new RangeError(`timeScale must be a finite number >= 0, got ${String(scale)}`);
}
