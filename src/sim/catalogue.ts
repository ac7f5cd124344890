/**
 * The simulator's model catalogue for `modelSearch` (docs/protocol.md §7): a dozen entries shaped
 * like the docs' example (air, name, version, category, architecture, type, tags, heroImage, private,
 * comment, and checkpoint defaults). AIRs of the Runware-hosted FLUX models are the documented ones;
 * the civitai ones follow the `civitai:<model>@<version>` pattern of the docs. Video and audio
 * models come from media-models.ts.
 */
import { MEDIA_MODELS } from "./media-models.js";

export interface CatalogueModel {
  air: string;
  name: string;
  version: string;
  category: "checkpoint" | "lora" | "lycoris" | "controlnet" | "vae" | "embeddings";
  architecture: string;
  type?: "base" | "inpainting" | "refiner";
  tags: string[];
  private: boolean;
  comment: string;
  positiveTriggerWords?: string;
  conditioning?: string;
  defaultWidth?: number;
  defaultHeight?: number;
  defaultSteps?: number;
  defaultScheduler?: string;
  defaultCFG?: number;
  defaultStrength?: number;
}

const IMAGE_MODELS: readonly CatalogueModel[] = [
  {
    air: "runware:101@1",
    name: "FLUX.1 [dev]",
    version: "1.0",
    category: "checkpoint",
    architecture: "flux1d",
    type: "base",
    tags: ["flux", "general", "photorealistic", "text rendering"],
    private: false,
    comment: "",
    defaultWidth: 1024,
    defaultHeight: 1024,
    defaultSteps: 28,
    defaultScheduler: "Default",
    defaultCFG: 3.5,
  },
  {
    air: "runware:100@1",
    name: "FLUX.1 [schnell]",
    version: "1.0",
    category: "checkpoint",
    architecture: "flux1s",
    type: "base",
    tags: ["flux", "fast", "general"],
    private: false,
    comment: "Distilled for 1-4 steps.",
    defaultWidth: 1024,
    defaultHeight: 1024,
    defaultSteps: 4,
    defaultScheduler: "Default",
    defaultCFG: 1,
  },
  {
    air: "runware:400@1",
    name: "FLUX.2 [dev]",
    version: "1.0",
    category: "checkpoint",
    architecture: "flux2d",
    type: "base",
    tags: ["flux", "general", "photorealistic"],
    private: false,
    comment: "",
    defaultWidth: 1024,
    defaultHeight: 1024,
    defaultSteps: 28,
    defaultScheduler: "Default",
    defaultCFG: 4,
  },
  {
    air: "civitai:101055@128078",
    name: "SD XL",
    version: "v1.0 Base",
    category: "checkpoint",
    architecture: "sdxl",
    type: "base",
    tags: ["base model", "general"],
    private: false,
    comment: "",
    defaultWidth: 1024,
    defaultHeight: 1024,
    defaultSteps: 30,
    defaultScheduler: "Default",
    defaultCFG: 7,
  },
  {
    air: "civitai:305149@392545",
    name: "Promissing_Realistic_XL",
    version: "v22",
    category: "checkpoint",
    architecture: "sdxl",
    type: "base",
    tags: ["photorealistic", "portrait", "realistic"],
    private: false,
    comment: "",
    defaultWidth: 1024,
    defaultHeight: 1024,
    defaultSteps: 20,
    defaultScheduler: "Default",
    defaultCFG: 7.5,
  },
  {
    air: "civitai:133005@782002",
    name: "Juggernaut XL",
    version: "Jugg_XI_by_RunDiffusion",
    category: "checkpoint",
    architecture: "sdxl",
    type: "base",
    tags: ["photorealistic", "cinematic", "base model"],
    private: false,
    comment: "",
    defaultWidth: 1024,
    defaultHeight: 1024,
    defaultSteps: 30,
    defaultScheduler: "DPM++ 2M Karras",
    defaultCFG: 6,
  },
  {
    air: "civitai:257749@290640",
    name: "Pony Diffusion V6 XL",
    version: "V6 (start with this one)",
    category: "checkpoint",
    architecture: "pony",
    type: "base",
    tags: ["anime", "cartoon", "furry"],
    private: false,
    comment: "",
    defaultWidth: 1024,
    defaultHeight: 1024,
    defaultSteps: 25,
    defaultScheduler: "Euler a",
    defaultCFG: 7,
  },
  {
    air: "civitai:4384@128713",
    name: "DreamShaper",
    version: "8",
    category: "checkpoint",
    architecture: "sd1x",
    type: "base",
    tags: ["anime", "illustration", "photorealistic", "general"],
    private: false,
    comment: "",
    defaultWidth: 512,
    defaultHeight: 512,
    defaultSteps: 25,
    defaultScheduler: "DPM++ 2M Karras",
    defaultCFG: 7,
  },
  {
    air: "civitai:4384@131004",
    name: "DreamShaper",
    version: "8-inpainting",
    category: "checkpoint",
    architecture: "sd1x",
    type: "inpainting",
    tags: ["inpainting", "illustration", "general"],
    private: false,
    comment: "",
    defaultWidth: 512,
    defaultHeight: 512,
    defaultSteps: 25,
    defaultScheduler: "DPM++ 2M Karras",
    defaultCFG: 7,
    defaultStrength: 0.8,
  },
  {
    air: "civitai:58390@62833",
    name: "Detail Tweaker LoRA",
    version: "v1.0",
    category: "lora",
    architecture: "sd1x",
    tags: ["detail", "concept", "tool"],
    private: false,
    comment: "Weight -1..2 adds or removes detail.",
  },
  {
    air: "civitai:631986@706528",
    name: "XLabs Flux Realism LoRA",
    version: "v1.0",
    category: "lora",
    architecture: "flux1d",
    tags: ["photorealistic", "flux", "style"],
    private: false,
    comment: "",
    positiveTriggerWords: "realism",
  },
  {
    air: "runware:25@1",
    name: "SDXL ControlNet Canny",
    version: "1.0",
    category: "controlnet",
    architecture: "sdxl",
    tags: ["controlnet", "edges"],
    private: false,
    comment: "",
    conditioning: "canny",
  },
  {
    air: "civitai:7808@9208",
    name: "EasyNegative",
    version: "v1.0",
    category: "embeddings",
    architecture: "sd1x",
    tags: ["negative", "embedding"],
    private: false,
    comment: "Use in the negative prompt.",
  },
  {
    air: "runware:120@1",
    name: "SDXL VAE fp16 fix",
    version: "1.0",
    category: "vae",
    architecture: "sdxl",
    tags: ["vae", "fp16"],
    private: false,
    comment: "",
  },
];

/** Image models, then the video and audio ones (media-models.ts). */
export const CATALOGUE: readonly CatalogueModel[] = [...IMAGE_MODELS, ...MEDIA_MODELS.map((m) => m.model)];

const TASK_TYPE_BY_AIR: ReadonlyMap<string, string> = new Map([
  ...IMAGE_MODELS.map((m) => [m.air, "imageInference"] as const),
  ...MEDIA_MODELS.map((m) => [m.model.air, m.taskType] as const),
]);

/** The task type a catalogued model is used in (adapters count as imageInference); undefined for AIRs not catalogued. */
export function modelTaskType(air: string): string | undefined {
  return TASK_TYPE_BY_AIR.get(air);
}

export interface ModelQuery {
  search?: string;
  tags?: string[];
  category?: string;
  type?: string;
  architecture?: string;
  limit: number;
  offset: number;
}

function matchesSearch(m: CatalogueModel, term: string): boolean {
  const t = term.toLowerCase();
  return [m.name, m.air, m.version, ...m.tags].some((field) => field.toLowerCase().includes(t));
}

/** Filter, then page; `totalResults` counts every match, not just the page (docs/protocol.md §7). */
export function searchModels(q: ModelQuery): { results: CatalogueModel[]; totalResults: number } {
  const lower = (s: string | undefined) => s?.toLowerCase();
  const wantTags = q.tags?.map((t) => t.toLowerCase());
  const matches = CATALOGUE.filter(
    (m) =>
      (!q.search || matchesSearch(m, q.search)) &&
      (!q.category || m.category === lower(q.category)) &&
      (!q.type || m.type === lower(q.type)) &&
      (!q.architecture || m.architecture === lower(q.architecture)) &&
      (!wantTags || wantTags.length === 0 || m.tags.some((t) => wantTags.includes(t.toLowerCase()))),
  );
  return { results: matches.slice(q.offset, q.offset + q.limit), totalResults: matches.length };
}
