/**
 * Runware's documented parameter ranges (docs/protocol.md §7, §8; 2025-10 docs snapshot) and the
 * few constants the simulator invents where the docs are silent. Validation reads these, never literals.
 */
export const RUNWARE_LIMITS = {
  imageInference: {
    positivePrompt: { min: 2, max: 3000 },
    negativePrompt: { min: 2, max: 3000 },
    /** Width and height: 128–2048 and divisible by 64. */
    side: { min: 128, max: 2048, multipleOf: 64 },
    numberResults: { min: 1, max: 20, default: 1 },
    steps: { min: 1, max: 100 },
    CFGScale: { min: 0, max: 50 },
    /** Seeds go up to int64 max (9223372036854775807, which JSON.parse reads as 2^63); JS numbers lose precision above 2^53, which we accept (§3.3). */
    seed: { min: 1, max: 2 ** 63 },
    outputQuality: { min: 20, max: 99 },
    outputTypes: ["URL", "base64Data", "dataURI"] as const,
    /** Case-insensitive: the docs show both "JPG" and "jpg" (§8). */
    outputFormats: ["JPG", "PNG", "WEBP"] as const,
  },
  /**
   * videoInference / audioInference. Runware's ranges are per model (each model has its own schema);
   * these are the simulator's, wide enough for the documented examples (docs/protocol.md §8: KlingAI
   * 1920×1080 for 10 s, Veo 1280×720 for 8 s, audio for 15 s).
   */
  mediaInference: {
    positivePrompt: { min: 2, max: 3000 },
    numberResults: { min: 1, max: 20, default: 1 },
    seed: { min: 1, max: 2 ** 63 },
    /** Seconds. */
    videoDuration: { min: 1, max: 60 },
    audioDuration: { min: 1, max: 300 },
    videoSide: { min: 128, max: 4096 },
    fps: { min: 1, max: 60 },
    outputQuality: { min: 20, max: 99 },
    /** The TS SDK's VideoInferenceParams takes only URL output; audio takes all three. */
    videoOutputTypes: ["URL"] as const,
    audioOutputTypes: ["URL", "base64Data", "dataURI"] as const,
  },
  modelSearch: {
    limit: { min: 1, max: 100, default: 20 },
    offset: { min: 0, default: 0 },
  },
  promptEnhance: {
    prompt: { min: 1, max: 300 },
    promptMaxLength: { min: 12, max: 400 },
    promptVersions: { min: 1, max: 5, default: 1 },
  },
  /** Upscale (`upscale`, `imageUpscale`): the factor; Runware caps the output at 4096², the simulator at the renderer's 2048. */
  upscaleFactor: { min: 2, max: 4 },
  textInference: {
    numberResults: { min: 1, max: 4, default: 1 },
    /** Message content; Runware's limits are per model. */
    content: { min: 1, max: 100_000 },
    roles: ["user", "assistant"] as const,
  },
  modelUpload: {
    categories: ["checkpoint", "lora", "lycoris", "vae", "embeddings"] as const,
    formats: ["safetensors"] as const,
  },
  accountOperations: ["getDetails", "getUsageActivity", "getUsagePerformance", "getUsageErrors"] as const,
  mediaStorageOperations: ["upload", "delete"] as const,
  /** `stream` is REST-only (server-sent events); over the WebSocket it is refused (docs/protocol.md §3.3). */
  deliveryMethods: ["sync", "async"] as const,
  /** Random seeds are 32-bit (§3.3). */
  randomSeedMax: 0xffff_ffff,
} as const;

/** Inventions of the simulator, kept in one place. */
export const SIM_CONSTANTS = {
  /** USD per generated image when `includeCost` is set (the sdk-js live test saw ~0.0013 for 512² FLUX schnell). */
  costPerImage: 0.0013,
  /** USD per video / audio result with `includeCost` (the docs' getResponse example shows 0.18 for a video). */
  costPerVideo: 0.18,
  costPerAudio: 0.02,
  /** USD for the other billable tasks when `includeCost` is set. */
  costPerTask: 0.0006,
  /** USD per upscale, background removal or caption with `includeCost` (invented, near Runware's tool prices). */
  costPerTool: 0.0019,
  /** USD per textInference result with `includeCost` (invented). */
  costPerText: 0.0004,
  /** The simulated account's balance at start, USD (accountManagement; `setBalance` changes it). */
  startBalance: 100,
  /** The simulated account's organizationUUID (fixed, so answers compare). */
  organizationUUID: "5e1a7ed0-0000-4000-8000-000000000001",
  /** `promptMaxLength` when the request omits it (undocumented; chosen inside 12–400). */
  promptMaxLengthDefault: 380,
  /** Status stream of a `modelUpload` (§3.3), one frame each; `failModelUploads` ends it early with another status. */
  modelUploadStatuses: ["validated", "downloaded", "optimized", "stored", "ready"] as const,
  /** Default payload of `sendGarbage()`: what a misbehaving proxy might send. */
  garbageText: "<html><body>502 Bad Gateway</body></html>",
  /** Close code used for the idle close and for `closeOnAuthFailure` (normal closure; Runware's is unknown). */
  closeCode: 1000,
} as const;
