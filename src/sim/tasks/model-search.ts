/** `modelSearch` (docs/protocol.md §7): one item holding the page and `totalResults`. */
import { searchModels, type CatalogueModel } from "../catalogue.js";
import { imageUrl } from "../images.js";
import { RUNWARE_LIMITS } from "../limits.js";
import { firstProblem, numberParam, stringArrayParam, stringParam } from "../validate.js";
import type { Item } from "../wire.js";
import type { TaskHandler } from "./types.js";

const L = RUNWARE_LIMITS.modelSearch;

/** Id of a model's hero image in the image store (pinned by the server at start). */
export function heroImageId(m: CatalogueModel): string {
  return `model-${m.air.replace(/[^A-Za-z0-9]+/g, "-")}`;
}

function str(task: Item, key: string): string | undefined {
  const v = task[key];
  return typeof v === "string" && v !== "" ? v : undefined;
}

export const modelSearch: TaskHandler = {
  validate: (task) =>
    firstProblem(
      () => stringParam(task, "search", { min: 0 }, false),
      () => stringArrayParam(task, "tags"),
      () => stringParam(task, "category", { min: 0 }, false),
      () => stringParam(task, "type", { min: 0 }, false),
      () => stringParam(task, "architecture", { min: 0 }, false),
      () => numberParam(task, "limit", L.limit, { required: false, integer: true }),
      () => numberParam(task, "offset", L.offset, { required: false, integer: true }),
    ),

  plan: (task, ctx) => {
    const query = {
      search: str(task, "search"),
      tags: Array.isArray(task["tags"]) ? (task["tags"] as string[]) : undefined,
      category: str(task, "category"),
      type: str(task, "type"),
      architecture: str(task, "architecture"),
      limit: typeof task["limit"] === "number" ? task["limit"] : L.limit.default,
      offset: typeof task["offset"] === "number" ? task["offset"] : L.offset.default,
    };
    return {
      items: [
        () => {
          const { results, totalResults } = searchModels(query);
          return { results: results.map((m) => ({ ...m, heroImage: imageUrl(ctx.httpUrl, heroImageId(m)) })), totalResults };
        },
      ],
    };
  },
};
