import { SUPPORTED_ALGORITHMS } from "@phmatch/core";
import { whyNotComputable } from "@phmatch/core/internal";
import { InvalidArgumentError } from "commander";

/**
 * Parses a comma-separated list of algorithm ids ("all" for every one), refusing unknown ones with the supported
 * list.
 */
export function parseAlgorithms(value: string): string[] {
  if (value.trim() === "all") return [...SUPPORTED_ALGORITHMS];
  const ids = value
    .split(",")
    .map((id) => id.trim())
    .filter((id) => id.length > 0);
  if (ids.length === 0) throw new InvalidArgumentError("give at least one algorithm id");
  for (const id of ids) {
    // Core's registry decides what can be computed (unknown ids, imported-only ones such as PhotoDNA).
    const why = whyNotComputable(id);
    if (why !== undefined) throw new InvalidArgumentError(why);
  }
  return [...new Set(ids)];
}

/** Parses a positive integer option value. */
export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}

/** Parses a number >= 0 (seconds, fractions allowed). */
export function parseNonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new InvalidArgumentError(`expected a number >= 0, got "${value}"`);
  }
  return n;
}

/** Parses a non-negative integer (an index). */
export function parseIndex(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`expected a number >= 0, got "${value}"`);
  return n;
}

/** Parses --combined "P,Q" (PDQ and 256-bit pHash distances of the opt-in combined policy). */
export function parseCombined(value: string): { pdq: number; phash16: number } {
  const m = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(value);
  if (m === null || Number(m[1]) > 256 || Number(m[2]) > 256)
    throw new InvalidArgumentError(`expected two distances "PDQ,PHASH16" (0-256 each), got "${value}"`);
  return { pdq: Number(m[1]), phash16: Number(m[2]) };
}

/** `--video-share <listed,query>`: the shares (percent) of a listed video's and the query's kept frames to match. */
export function parseVideoShare(value: string): { minTargetPercent: number; minQueryPercent: number } {
  const m = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(value);
  if (m === null || Number(m[1]) > 100 || Number(m[2]) > 100)
    throw new InvalidArgumentError(`expected two percentages "LISTED,QUERY" (0-100 each, e.g. 80,0), got "${value}"`);
  return { minTargetPercent: Number(m[1]), minQueryPercent: Number(m[2]) };
}
