import { createRequire } from "node:module";

/**
 * sharp, loaded through its CommonJS build: on Node 20 that costs about a third of what its ES module build does
 * (about 85 against 230 ms on one core of the CI machine, `npm run bench`'s start-up rows), which an upload check
 * that runs one process per file pays every time. The same native module either way.
 */
export const sharp = createRequire(import.meta.url)("sharp") as typeof import("sharp").default;
export type { Metadata, Sharp } from "sharp";
