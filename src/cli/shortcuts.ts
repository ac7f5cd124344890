/**
 * `runware video` and `runware audio`: a prompt to a file, as `text-to-image` is for images, with
 * real Runware model AIRs as defaults (defaults.ts). They go through the daemon like any task; it
 * sends them async and polls for the answer (docs/local-api.md §2.8).
 */
import type { TaskInput } from "../client/index.js";
import { UsageError } from "../errors.js";
import type { FlagValues } from "../util/args.js";
import { CLIENT_USAGE, compact, flagsOf, int, num, RESULT_OPTIONS, RESULT_USAGE, parseClient, str, usage } from "./args.js";
import { CLIENT_DEFAULTS as D } from "./defaults.js";
import { runAndPrint } from "./verbs.js";

const COMMON = {
  ...RESULT_OPTIONS,
  prompt: { type: "string" },
  negative: { type: "string" },
  model: { type: "string" },
  duration: { type: "string" },
  seed: { type: "string" },
  n: { type: "string" },
  format: { type: "string" },
  "include-cost": { type: "boolean" },
} as const;

const VIDEO_USAGE = `usage: runware video --prompt TEXT [options]
  --prompt TEXT        what happens (required)   --negative TEXT  what to avoid
  --model AIR          default ${D.videoModel}
  --duration S         seconds (default ${D.videoDuration})
  --width N --height N default ${D.videoWidth} x ${D.videoHeight}
  --fps N              frames per second (the model's default)
  --seed N             fixed seed               --n N         number of videos (default 1)
  --format F           MP4 | WEBM | MOV          --include-cost  ask for the cost
${RESULT_USAGE}
${CLIENT_USAGE}`;

const AUDIO_USAGE = `usage: runware audio --prompt TEXT [options]
  --prompt TEXT        what it sounds like (required)
  --model AIR          default ${D.audioModel}
  --duration S         seconds (default ${D.audioDuration})
  --seed N             fixed seed               --n N         number of clips (default 1)
  --format F           MP3 | WAV | FLAC | OGG   --include-cost  ask for the cost
${RESULT_USAGE}
${CLIENT_USAGE}`;

function common(values: FlagValues, model: string, duration: number): Record<string, unknown> {
  const prompt = str(values, "prompt");
  if (!prompt) throw new UsageError("--prompt is required");
  return {
    model: str(values, "model") ?? model,
    positivePrompt: prompt,
    negativePrompt: str(values, "negative"),
    duration: num(values, "duration") ?? duration,
    seed: int(values, "seed", 1),
    numberResults: int(values, "n", 1, 20),
    outputFormat: str(values, "format")?.toUpperCase(),
    includeCost: values["include-cost"] ? true : undefined,
  };
}

export async function video(argv: string[]): Promise<number> {
  const { values } = parseClient(argv, { ...COMMON, width: { type: "string" }, height: { type: "string" }, fps: { type: "string" } });
  if (values["help"]) return usage(VIDEO_USAGE);
  const task = compact({
    taskType: "videoInference",
    ...common(values, D.videoModel, D.videoDuration),
    width: int(values, "width", 1) ?? D.videoWidth,
    height: int(values, "height", 1) ?? D.videoHeight,
    fps: int(values, "fps", 1),
  });
  return runAndPrint(flagsOf(values), [task as TaskInput]);
}

export async function audio(argv: string[]): Promise<number> {
  const { values } = parseClient(argv, COMMON);
  if (values["help"]) return usage(AUDIO_USAGE);
  const task = compact({ taskType: "audioInference", ...common(values, D.audioModel, D.audioDuration) });
  return runAndPrint(flagsOf(values), [task as TaskInput]);
}
