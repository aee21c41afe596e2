/**
 * Every algorithm id phmatch knows, declared once, with its bit length, hex format and default match threshold.
 * These ids are used everywhere: CLI, records, hash-set stores, HTTP.
 */

/** What an algorithm hashes. */
export type HasherInput =
  /** decoded pixels (perceptual hashes) */
  | "pixels"
  /** the file's bytes (exact digests) */
  | "bytes"
  /** imported from lists and carried; phmatch cannot compute it */
  | "imported";

/** The declaration of one algorithm. */
export interface HasherSpec {
  id: string;
  bits: number;
  input: HasherInput;
  /** Hamming distance at or below which two values match unless a list or policy says otherwise; 0 = equal. */
  defaultThreshold: number;
  /** One line for `--help`, docs and reports. */
  description: string;
  /** The hash can also be computed for the image's 8 dihedral transforms (turns and flips), each a query. */
  dihedral?: boolean;
}

/** True if phmatch computes this algorithm (from pixels or bytes); false for one it only imports from lists. */
export function isComputable(spec: HasherSpec): boolean {
  return spec.input !== "imported";
}

/**
 * Why `id` cannot be computed, in words for the user (an unknown id, with the ids that can be; an imported-only
 * one such as PhotoDNA); undefined when it can. Every caller that takes algorithm ids (API options, CLI flags)
 * asks this, so the answer is the same everywhere.
 */
export function whyNotComputable(id: string): string | undefined {
  const spec = specs.get(id);
  if (spec === undefined) {
    const computable = hasherSpecs()
      .filter(isComputable)
      .map((s) => s.id);
    return `unknown algorithm "${id}"; supported: ${computable.join(", ")}`;
  }
  if (!isComputable(spec)) {
    return `${id} cannot be computed (proprietary): phmatch imports and carries its values from lists`;
  }
  return undefined;
}

/** Values are lowercase hex of the hash bytes: this many digits. */
export function hexDigits(spec: HasherSpec): number {
  return Math.ceil(spec.bits / 4);
}

const specs = new Map<string, HasherSpec>();

/** Adds a declaration; each algorithm file registers its ids when imported. */
export function registerHasher(spec: HasherSpec): HasherSpec {
  if (specs.has(spec.id)) throw new Error(`hasher "${spec.id}" is declared twice`);
  specs.set(spec.id, spec);
  return spec;
}

/** The declaration of `id`, or undefined. */
export function hasherSpec(id: string): HasherSpec | undefined {
  return specs.get(id);
}

// How listings (help, `all`, golden files) order the ids, whatever order the files were imported in.
const LISTING_ORDER = [
  "pdq",
  "phash",
  "dhash",
  "ahash",
  "whash",
  "phash16",
  "dhash16",
  "ahash16",
  "whash16",
  "blockhash",
  "blockhash8",
  "md5",
  "sha1",
  "sha256",
  "photodna",
];

/** All declarations, PDQ first, then the imagehash family, blockhash, digests, imported-only. */
export function hasherSpecs(): HasherSpec[] {
  const rank = (id: string) => (LISTING_ORDER.includes(id) ? LISTING_ORDER.indexOf(id) : LISTING_ORDER.length);
  return [...specs.values()].sort((a, b) => rank(a.id) - rank(b.id));
}
