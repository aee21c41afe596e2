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
