import { readFileSync } from "node:fs";

/** This package's version, as records and reports name it. */
export const PHMATCH_VERSION = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;
