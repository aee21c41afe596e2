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
  let s = text.trim();
  if (s.startsWith("0x") || s.startsWith("0X")) s = s.slice(2);
  if (/^[0-9a-fA-F]+$/.test(s)) {
    if (s.length !== hexDigits(spec)) {
      return { ok: false, reason: `${algorithm} needs ${hexDigits(spec)} hex digits, got ${s.length}` };
    }
    return { ok: true, value: new Uint8Array(Buffer.from(s, "hex")) };
  }
  if (algorithm === "photodna") {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s) || s.length % 4 !== 0) return { ok: false, reason: "photodna value is neither hex nor valid base64" };
    const value = Buffer.from(s, "base64");
    if (value.length !== bytes) return { ok: false, reason: `photodna needs ${bytes} bytes, base64 decodes to ${value.length}` };
    return { ok: true, value: new Uint8Array(value) };
  }
  return { ok: false, reason: `${algorithm} value is not hex: ${JSON.stringify(s.slice(0, 40))}` };
}
