import { PhmatchError } from "../errors/index.js";

/** Lowercase hex of bytes (hashes appear as hex only at the edges: files, CLI, JSON). */
export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** Bytes of a hex string of exactly `bytes` bytes; throws PHM_USAGE on anything else. */
export function hexToBytes(hex: string, bytes: number): Uint8Array {
  if (hex.length !== bytes * 2 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new PhmatchError("PHM_USAGE", `expected ${bytes * 2} hex digits, got ${JSON.stringify(hex.slice(0, 80))}`);
  }
  return new Uint8Array(Buffer.from(hex, "hex"));
}

/** Number of differing bits between two equally long byte strings. */
export function hammingDistance(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`hash lengths differ: ${a.length} and ${b.length} bytes`);
  let distance = 0;
  for (let i = 0; i < a.length; i++) {
    let x = (a[i] as number) ^ (b[i] as number);
    x = x - ((x >> 1) & 0x55);
    x = (x & 0x33) + ((x >> 2) & 0x33);
    distance += (x + (x >> 4)) & 0x0f;
  }
  return distance;
}
