/** The bundled Runware simulator (`runware sim`, and the upstream of every test). */
export { SimServer } from "./server.js";
export { SIM_DEFAULTS, type SimOptions, type SplitMode } from "./options.js";
export type { SimCounters } from "./counters.js";
export { CATALOGUE } from "./catalogue.js";
export { VIDEO_MODELS, AUDIO_MODELS } from "./media-models.js";
import { TASK_HANDLERS } from "./tasks/index.js";
/** The task types the simulator runs, besides authentication, ping and getResponse (`runware sim --help`). */
export const SIM_TASK_TYPES: readonly string[] = [...TASK_HANDLERS.keys()];
