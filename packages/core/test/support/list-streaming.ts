// The streaming cases of the list readers, at any size: the unit tests run them small (so the code path stays
// covered in npm test), npm run test:fuzz at the sizes that show memory stays bounded (hashset-lists.scale.test.ts).
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { expect } from "vitest";
import type { HashSetRecord } from "../../src/hashset/entry.js";
import { ImportReport } from "../../src/hashset/import-report.js";
import { readCsv } from "../../src/hashset/readers/csv.js";
import { readNcmec } from "../../src/hashset/readers/ncmec.js";
import { readVics } from "../../src/hashset/readers/vics.js";

const digestHex = (algorithm: string, text: string) => createHash(algorithm).update(text).digest("hex");
const digest = digestHex;
const hex = (value: Uint8Array) => Buffer.from(value).toString("hex");

/** `MEDIA` VICS Media objects (a multiple of 5) from small chunks, without reading ahead. */
export async function streamVics(MEDIA: number): Promise<void> {
  let chunksProduced = 0;
  // The document is produced lazily, one Media line at a time, and cut into 4093-byte Buffers (an odd size,
  // so chunk ends fall inside tokens); it never exists as one string.
  async function* document(): AsyncGenerator<Buffer> {
    let pending =
      '{"odata.metadata": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media",\n' +
      '"value": [\n';
    for (let i = 0; i < MEDIA; i++) {
      const s = `phmatch vics stream ${i}`;
      pending +=
        `{"MediaID": ${i}, "Category": ${i % 5}, "MD5": "${digestHex("md5", s)}", ` +
        `"SHA1": "${digestHex("sha1", s)}", "Series": "série ${i % 7}"}${i + 1 < MEDIA ? "," : ""}\n`;
      while (pending.length >= 4093) {
        chunksProduced++;
        yield Buffer.from(pending.slice(0, 4093), "utf8");
        pending = pending.slice(4093);
      }
    }
    pending += "]}\n";
    chunksProduced++;
    yield Buffer.from(pending, "utf8");
  }

  const report = new ImportReport("stream.json");
  let count = 0;
  let chunksAtFirstEntry = -1;
  let last: HashSetRecord | undefined;
  const categories = new Map<string, number>();
  for await (const record of readVics(
    Readable.from(document(), { highWaterMark: 2 }),
    { listId: "vics-test" },
    report,
  )) {
    if (count === 0) chunksAtFirstEntry = chunksProduced;
    count++;
    last = record;
    if (record.kind === "entry" && record.entry.algorithm === "md5")
      categories.set(record.entry.category ?? "", (categories.get(record.entry.category ?? "") ?? 0) + 1);
  }
  expect(count).toBe(2 * MEDIA);
  expect(report.read).toBe(MEDIA);
  expect(report.invalid).toBe(0);
  expect(chunksProduced).toBeGreaterThan(MEDIA * 0.03); // over 3,000 for 100,000
  expect(chunksAtFirstEntry).toBeLessThan(10); // the first entries come out while the rest is still unwritten
  expect([...categories.values()]).toEqual(Array(5).fill(MEDIA / 5));
  expect(
    last?.kind === "entry" && [
      last.line,
      last.entry.entryId,
      last.entry.algorithm,
      hex(last.entry.value),
      last.entry.fields?.extra?.Series,
    ],
  ).toEqual([
    MEDIA + 2,
    String(MEDIA - 1),
    "sha1",
    digestHex("sha1", `phmatch vics stream ${MEDIA - 1}`),
    `série ${(MEDIA - 1) % 7}`,
  ]);
}

/** A generated CSV list of `ROWS` rows fed in small chunks. */
export async function streamCsv(ROWS: number): Promise<void> {
  const value = (i: number) => i.toString(16).padStart(32, "0");
  // Rows are produced as they are read, 4 KiB at most are pending, and chunks of 61 bytes split rows anywhere.
  const input = Readable.from(
    (function* () {
      let pending = "algorithm,hash,id\r\n";
      for (let i = 0; i < ROWS; i++) {
        pending += `md5,${value(i)},row-${i}\r\n`;
        while (pending.length >= 4096) {
          for (let at = 0; at + 61 <= pending.length; at += 61) yield pending.slice(at, at + 61);
          pending = pending.slice(pending.length - (pending.length % 61));
        }
      }
      yield pending;
    })(),
    { objectMode: false },
  );
  const report = new ImportReport("generated.csv");
  let count = 0;
  let last: HashSetRecord | undefined;
  for await (const record of readCsv(input, { listId: "test-list" }, report)) {
    if (count === 0) expect(record).toMatchObject({ line: 2, entry: { entryId: "row-0" } });
    count++;
    last = record;
  }
  expect(count).toBe(ROWS);
  expect(report).toMatchObject({ read: ROWS, invalid: 0 });
  expect(last?.line).toBe(ROWS + 1);
  expect(last?.kind === "entry" && [last.entry.entryId, Buffer.from(last.entry.value).toString("hex")]).toEqual([
    `row-${ROWS - 1}`,
    value(ROWS - 1),
  ]);
}

/** A generated list of `count` images, produced lazily in 997-byte chunks (never one string). */
export function* generatedNcmecList(count: number, progress: { chunks: number; done: boolean }): Generator<Buffer> {
  let pending = '<?xml version="1.0" encoding="UTF-8"?>\n<queryResult>\n<images>\n';
  for (let i = 0; i < count; i++) {
    pending += `<image><member id="1">Stream Member</member><id>s${i}</id><classification>B1</classification>`;
    pending += `<fingerprints><md5>${digest("md5", `phmatch benign test stream ${i}`)}</md5></fingerprints></image>\n`;
    while (pending.length >= 997) {
      progress.chunks++;
      yield Buffer.from(pending.slice(0, 997));
      pending = pending.slice(997);
    }
  }
  pending += "</images>\n</queryResult>\n";
  progress.done = true;
  yield Buffer.from(pending);
}

/** `count` NCMEC images arriving in small chunks, yielding before the input ends. */
export async function streamNcmec(count: number): Promise<void> {
  const progress = { chunks: 0, done: false };
  const report = new ImportReport("generated.xml");
  let entries = 0;
  let chunksAtFirstEntry = -1;
  let last: HashSetRecord | undefined;
  for await (const record of readNcmec(
    Readable.from(generatedNcmecList(count, progress)),
    { listId: "stream" },
    report,
  )) {
    if (chunksAtFirstEntry < 0) chunksAtFirstEntry = progress.chunks;
    if (record.kind === "entry") entries++;
    last = record;
  }
  expect(progress.done).toBe(true);
  expect(chunksAtFirstEntry).toBeGreaterThan(0);
  expect(chunksAtFirstEntry).toBeLessThan(progress.chunks / 100);
  expect(entries).toBe(count);
  expect(report.read).toBe(count);
  expect(report.invalid).toBe(0);
  expect(
    last?.kind === "entry" && [last.line, last.entry.entryId, hex(last.entry.value), last.entry.fields?.member],
  ).toEqual([count + 3, `s${count - 1}`, digest("md5", `phmatch benign test stream ${count - 1}`), "1"]);
}
