/**
 * Video and audio models in the simulator's catalogue (catalogue.ts appends them, so `modelSearch`
 * finds them), with the task type each runs. AIRs and names are real: the TS SDK's model registry
 * (`klingai:5@3` KlingAI 2.1 Master, `google:3@3` Veo 3.1 Fast, `minimax:3@1` MiniMax Hailuo 02,
 * `minimax:music@2.6`) and the docs' audioInference example (`elevenlabs:1@1`). Runware's category
 * for such models is not documented; they are listed as checkpoints tagged with their modality.
 */
import type { CatalogueModel } from "./catalogue.js";

export type MediaTaskType = "videoInference" | "audioInference";

export interface MediaModel {
  taskType: MediaTaskType;
  model: CatalogueModel;
}

const video = (air: string, name: string, version: string, architecture: string, width: number, height: number): MediaModel => ({
  taskType: "videoInference",
  model: {
    air,
    name,
    version,
    category: "checkpoint",
    architecture,
    type: "base",
    tags: ["video", "text-to-video"],
    private: false,
    comment: "",
    defaultWidth: width,
    defaultHeight: height,
  },
});

const audio = (air: string, name: string, version: string, architecture: string, tags: string[]): MediaModel => ({
  taskType: "audioInference",
  model: { air, name, version, category: "checkpoint", architecture, type: "base", tags: ["audio", ...tags], private: false, comment: "" },
});

export const MEDIA_MODELS: readonly MediaModel[] = [
  video("klingai:5@3", "KlingAI 2.1 Master", "2.1 Master", "klingai", 1920, 1080),
  video("google:3@3", "Veo 3.1 Fast", "3.1 Fast", "veo", 1280, 720),
  video("minimax:3@1", "MiniMax Hailuo 02", "02", "minimax", 1366, 768),
  audio("elevenlabs:1@1", "ElevenLabs", "1", "elevenlabs", ["music", "sound effects"]),
  audio("minimax:music@2.6", "MiniMax Music 2.6", "2.6", "minimax", ["music"]),
];

/** AIRs the simulator runs as `videoInference` (first: the docs' example, KlingAI 2.1 Master). */
export const VIDEO_MODELS: readonly string[] = MEDIA_MODELS.filter((m) => m.taskType === "videoInference").map((m) => m.model.air);
/** AIRs the simulator runs as `audioInference` (first: the docs' example, `elevenlabs:1@1`). */
export const AUDIO_MODELS: readonly string[] = MEDIA_MODELS.filter((m) => m.taskType === "audioInference").map((m) => m.model.air);
