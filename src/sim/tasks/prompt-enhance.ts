/**
 * `promptEnhance` (docs/protocol.md §3.3): `promptVersions` separate items with the same taskUUID,
 * each with a `text` of at most `promptMaxLength` characters. The enhancement is deterministic in
 * the prompt and version index, so tests can compare texts.
 */
import { createHash } from "node:crypto";
import { RUNWARE_LIMITS, SIM_CONSTANTS } from "../limits.js";
import { firstProblem, numberParam, stringParam } from "../validate.js";
import type { TaskHandler } from "./types.js";

const L = RUNWARE_LIMITS.promptEnhance;

const DESCRIPTORS = [
  "highly detailed",
  "cinematic lighting",
  "sharp focus",
  "volumetric light",
  "rich colors",
  "intricate textures",
  "award-winning composition",
  "soft shadows",
  "dramatic atmosphere",
  "shallow depth of field",
  "golden hour",
  "ultra realistic",
  "studio quality",
  "vivid contrast",
  "masterpiece",
  "trending on artstation",
];
const DESCRIPTORS_PER_VERSION = 4;

function enhancePrompt(prompt: string, version: number, maxLength: number): string {
  const digest = createHash("sha256").update(`${version}\0${prompt}`).digest();
  const picked: string[] = [];
  for (let i = 0; picked.length < DESCRIPTORS_PER_VERSION && i < digest.length; i++) {
    const word = DESCRIPTORS[digest[i]! % DESCRIPTORS.length]!;
    if (!picked.includes(word)) picked.push(word);
  }
  return `${prompt.trim()}, ${picked.join(", ")}`.slice(0, maxLength).trim();
}

export const promptEnhance: TaskHandler = {
  validate: (task) =>
    firstProblem(
      () => stringParam(task, "prompt", L.prompt, true),
      () => numberParam(task, "promptMaxLength", L.promptMaxLength, { required: false, integer: true }),
      () => numberParam(task, "promptVersions", L.promptVersions, { required: false, integer: true }),
    ),

  plan: (task) => {
    const prompt = String(task["prompt"]);
    const max = typeof task["promptMaxLength"] === "number" ? task["promptMaxLength"] : SIM_CONSTANTS.promptMaxLengthDefault;
    const versions = typeof task["promptVersions"] === "number" ? task["promptVersions"] : L.promptVersions.default;
    const cost = task["includeCost"] === true ? { cost: SIM_CONSTANTS.costPerTask } : {};
    return {
      items: Array.from({ length: versions }, (_, v) => () => ({ text: enhancePrompt(prompt, v, max), ...cost })),
      cost: SIM_CONSTANTS.costPerTask,
    };
  },
};
