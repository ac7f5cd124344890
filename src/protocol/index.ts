export * from "./schemas.js";
export * from "./codes.js";
export * from "./expect.js";
export * from "./codec.js";
