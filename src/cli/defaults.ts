/**
 * The client verbs' own defaults, each with its reason. The daemon's settings are a separate table
 * (src/local/settings.ts); nothing here reaches the daemon. Help texts quote these values, and
 * README "Everyday use" states them.
 */
export const CLIENT_DEFAULTS = {
  /** FLUX.1 [dev]: the model of Runware's own imageInference examples (docs/protocol.md §8). */
  model: "runware:101@1",
  /** That model's native size, in both directions. */
  width: 1024,
  height: 1024,
  /** One image unless `--n` asks for more (Runware's own default for numberResults, §3.3). */
  numberResults: 1,

  /** `video`: KlingAI 2.1 Master, the model of Runware's own videoInference example (docs/protocol.md §8). */
  videoModel: "klingai:5@3",
  /** 5 s at 1280×720: a duration and size every listed video model takes (KlingAI 5 or 10 s; Veo 8 s max). */
  videoDuration: 5,
  videoWidth: 1280,
  videoHeight: 720,
  /** `audio`: ElevenLabs, the model of Runware's own audioInference example (docs/protocol.md §8). */
  audioModel: "elevenlabs:1@1",
  /** 10 s: inside the docs' example (15 s) and every model's range. */
  audioDuration: 10,

  /** `poll`: first delay, ×1.5 per poll up to 10 s: Runware's advice of 1-2 s, grown (docs/protocol.md §4.4). */
  pollIntervalMs: 1_000,
  pollBackoff: 1.5,
  pollMaxIntervalMs: 10_000,
  /** `poll`: 10 minutes, sdk-js's cap (§4.4); longer than the daemon's task timeout (5 min). */
  pollTimeoutMs: 600_000,

  /** `stop`: above the daemon's drain timeout (30 s), so a clean drain is waited for. */
  stopTimeoutMs: 60_000,
  /** `stop`: how often it looks whether the daemon process is gone. */
  stopPollMs: 25,

  /** Auto-start: a cold daemon answers in well under a second; 10 s covers a busy 2-core machine. */
  autostartTimeoutMs: 10_000,
  /** Auto-start: how often it asks whether the new daemon answers. */
  autostartPollMs: 50,

  /**
   * `batch`: tasks per request to the daemon. Far more than --max-in-flight, so the daemon is never
   * idle between chunks; far under its 32 MiB body limit; and a rerun after Ctrl-C has at most one
   * chunk of "submitted" lines to look up.
   */
  batchChunk: 500,

  /** `demo`: simulated generation time; long enough to watch the images arrive one by one. */
  demoWorkMs: 400,
} as const;
