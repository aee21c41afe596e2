export * from "./feedback-state.js";
export * from "./spread.js";
