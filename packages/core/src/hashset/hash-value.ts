import { hasherSpec, hexDigits } from "../hashers/index.js";

/** Result of validating one textual hash value. */
export type ParsedValue = { ok: true; value: Uint8Array } | { ok: false; reason: string };

/**
 * Parses a hash value of `algorithm` written as hex (any case, optional 0x) or, for PhotoDNA, also base64
 * (as VICS and NCMEC carry it). Says exactly what is wrong otherwise: unknown algorithm, wrong length, bad hex.
 */
export function parseHashValue(algorithm: string, text: string): ParsedValue {
  const spec = hasherSpec(algorithm);
  if (spec === undefined) return { ok: false, reason: `unknown algorithm "${algorithm}"` };
  const bytes = spec.bits / 8;
  const s = text.trim();
  const digits = s.startsWith("0x") || s.startsWith("0X") ? s.slice(2) : s;
  const hex = /^[0-9a-fA-F]+$/.test(digits);
  if (hex && digits.length === hexDigits(spec)) return { ok: true, value: new Uint8Array(Buffer.from(digits, "hex")) };
  // Base64 is tried on the text as written: "0x" may begin a base64 value (one in 2048 random PhotoDNA values).
  if (algorithm === "photodna" && /^[A-Za-z0-9+/]+={0,2}$/.test(s) && s.length % 4 === 0) {
    const value = Buffer.from(s, "base64");
    if (value.length === bytes) return { ok: true, value: new Uint8Array(value) };
    if (!hex) return { ok: false, reason: `photodna needs ${bytes} bytes, base64 decodes to ${value.length}` };
  }
  if (hex) return { ok: false, reason: `${algorithm} needs ${hexDigits(spec)} hex digits, got ${digits.length}` };
  if (algorithm === "photodna") return { ok: false, reason: "photodna value is neither hex nor valid base64" };
  return { ok: false, reason: `${algorithm} value is not hex: ${JSON.stringify(s.slice(0, 40))}` };
}

// Digests of 0 bytes: every empty file has them, so a list entry of one would make every empty file "known".
const EMPTY_INPUT_DIGESTS: Record<string, string> = {
  md5: "d41d8cd98f00b204e9800998ecf8427e",
  sha1: "da39a3ee5e6b4b0d3255bfef95601890afd80709",
  sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
};

/**
 * Why `value` is degenerate for `algorithm`, or undefined. A degenerate value is one that unrelated inputs share,
 * so listing it (or looking it up) would call them all known:
 * - the digest of empty input (MD5 d41d8cd9..., SHA-1 da39a3ee..., SHA-256 e3b0c442...): every 0-byte file;
 * - a value within the algorithm's default match distance of all zeros or all ones: what flat, featureless
 *   images hash to (a black or one-colour image gives aHash, dHash, wHash and blockhash all zeros or all ones,
 *   a horizontal gradient dHash all ones), so under the default policy every such image would match it. For a
 *   digest (distance 0) that is the all-zero and all-ones value, which lists use as a placeholder for "no hash".
 * Featureless images whose pHash or PDQ is not near all zeros (DCT rounding noise of a flat grey image) cannot
 * be told by the value: `hashset build` refuses them by their PDQ quality, and the matcher's quality gate does.
 * `hashset build` and import never list a degenerate value; the matcher never looks one up.
 */
export function degenerateValue(algorithm: string, value: Uint8Array): string | undefined {
  const spec = hasherSpec(algorithm);
  if (spec === undefined) return undefined;
  const empty = EMPTY_INPUT_DIGESTS[algorithm];
  if (empty !== undefined && Buffer.from(value).toString("hex") === empty) {
    return `the ${algorithm} of empty input (a 0-byte file): every empty file has it`;
  }
  let ones = 0;
  for (const byte of value) ones += BIT_COUNT[byte] as number;
  const bits = value.length * 8;
  const near = spec.defaultThreshold;
  if (ones <= near || bits - ones <= near) {
    const side = ones <= near ? "zeros" : "ones";
    if (near === 0) return `all ${side}: a placeholder, not the ${algorithm} of any real input`;
    return (
      `within ${near} bits of all ${side} (${ones} of ${bits} bits set): flat, featureless images hash to it, ` +
      `so under the default ${algorithm} policy every such image would match it`
    );
  }
  return undefined;
}

const BIT_COUNT = Uint8Array.from({ length: 256 }, (_, byte) => {
  let n = 0;
  for (let b = byte; b !== 0; b >>= 1) n += b & 1;
  return n;
});
