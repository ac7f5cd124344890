/** The bundled Runware simulator (`runware sim`, and the upstream of every test). */
export { SimServer } from "./server.js";
export { SIM_DEFAULTS, type SimOptions, type SplitMode, type AsyncErrorForm } from "./options.js";
export type { SimCounters, AuthRecord } from "./counters.js";
export type { ErrorRule, AuthFailureMode } from "./faults.js";
export { CONTROLS } from "./control.js";
export { CATALOGUE, type CatalogueModel } from "./catalogue.js";
export { RUNWARE_LIMITS, SIM_CONSTANTS } from "./limits.js";
export { renderImage } from "./render.js";
