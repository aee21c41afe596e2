import { createHash } from "node:crypto";
import { PHMATCH_VERSION } from "../version.js";
import type { HashSetBuilder } from "./builder.js";
import { type AlgorithmSection, PHS_FORMAT_VERSION, PHS_MAGIC, type PhsHeader } from "./store-format.js";

const pad8 = (n: number) => (8 - (n % 8)) % 8;

/** Serialises a builder to the bytes of a `.phs` store (see store-format.ts). */
export function serializeStore(builder: HashSetBuilder, createdAt = new Date().toISOString()): Buffer {
  const groups = builder.groups();
  const withdrawalLines = Buffer.from(
    builder.withdrawals
      .map((w) => {
        const listIndex = builder.lists.findIndex((l) => l.listId === w.listId);
        return (
          JSON.stringify({
            ...(w.algorithm !== undefined && { a: w.algorithm }),
            ...(w.value !== undefined && { h: Buffer.from(w.value).toString("hex") }),
            ...(listIndex > 0 && { l: listIndex }),
            ...(w.entryId !== undefined && { i: w.entryId }),
          }) + "\n"
        );
      })
      .join(""),
  );
  // Section payloads in file order; offsets are filled in once the header's size is known.
  const payloads: Uint8Array[] = [];
  for (const g of groups) {
    payloads.push(g.values);
    const offsets = Buffer.from(g.metaOffsets.buffer, g.metaOffsets.byteOffset, g.metaOffsets.byteLength);
    payloads.push(Buffer.concat([offsets, g.metaBlob]));
  }
  payloads.push(withdrawalLines);

  const header: PhsHeader = {
    format: "phs",
    formatVersion: PHS_FORMAT_VERSION,
    createdBy: `phmatch ${PHMATCH_VERSION}`,
    createdAt,
    lists: builder.lists,
    ...(builder.provenance.length > 0 && { provenance: builder.provenance }),
    counts: {
      entries: builder.entryCount,
      withdrawals: builder.withdrawals.length,
      byAlgorithm: Object.fromEntries(groups.map((g) => [g.algorithm, g.count])),
    },
    algorithms: [],
    withdrawals: { offset: 0, length: 0, count: builder.withdrawals.length },
  };
  // The header holds offsets that depend on its own length: lay out with wide placeholders, then fix point.
  let headerBytes = Buffer.alloc(0);
  for (let attempt = 0; ; attempt++) {
    if (attempt === 8) throw new Error("internal: .phs header layout did not converge");
    let offset = PHS_MAGIC.length + 4 + headerBytes.length;
    offset += pad8(offset);
    const sections: AlgorithmSection[] = [];
    let p = 0;
    for (const g of groups) {
      const values = { offset, length: g.values.length };
      offset += g.values.length;
      offset += pad8(offset);
      const metaLength = (payloads[p + 1] as Uint8Array).length;
      const meta = { offset, length: metaLength };
      offset += metaLength;
      offset += pad8(offset);
      sections.push({ algorithm: g.algorithm, bytesPerValue: g.bytesPerValue, count: g.count, values, meta });
      p += 2;
    }
    header.algorithms = sections;
    header.withdrawals = { offset, length: withdrawalLines.length, count: builder.withdrawals.length };
    const previousLength = headerBytes.length;
    headerBytes = Buffer.from(JSON.stringify(header));
    if (headerBytes.length === previousLength) break; // offsets were computed for exactly this length
  }
  const parts: Uint8Array[] = [PHS_MAGIC, u32(headerBytes.length), headerBytes];
  let length = PHS_MAGIC.length + 4 + headerBytes.length;
  for (const payload of payloads) {
    const pad = pad8(length);
    if (pad > 0) parts.push(Buffer.alloc(pad));
    parts.push(payload);
    length += pad + payload.length;
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([body, createHash("sha256").update(body).digest()]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}
