// Writes the synthetic Project VIC (VICS) JSON lists of this folder. Every value is derived from a harmless
// string (see valuesOf); no value comes from a real hash list. Run: node test-fixtures/hashsets/vics/generate.mjs
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";

const here = new URL("./", import.meta.url);
const digest = (algorithm, text) => createHash(algorithm).update(text).digest();

/** The benign values of fixture item n: digests of "phmatch vics fixture n", PDQ and PhotoDNA stand-ins. */
function valuesOf(n) {
  const s = `phmatch vics fixture ${n}`;
  const photodna = Buffer.concat([
    digest("sha512", `photodna 1 ${s}`),
    digest("sha512", `photodna 2 ${s}`),
    digest("sha512", `photodna 3 ${s}`).subarray(0, 16),
  ]);
  return {
    md5: digest("md5", s).toString("hex"),
    sha1: digest("sha1", s).toString("hex"),
    sha256: digest("sha256", s).toString("hex"),
    pdq: digest("sha256", `pdq ${s}`).toString("hex"),
    photodnaBase64: photodna.toString("base64"),
    photodnaHex: photodna.toString("hex"),
  };
}

const write = (name, text) => writeFileSync(new URL(name, here), text);
const pretty = (doc) => JSON.stringify(doc, null, 2) + "\n";
const MEDIA_METADATA = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media";
const CASES_METADATA = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/1.3.xml/CUSTOM/$metadata#Cases";
const v = valuesOf;

// VICS 2.0, #Media: top-level MD5/SHA1/PhotoDNA, Hashes arrays, the usual descriptive fields.
write(
  "vics-2.0.json",
  pretty({
    "odata.metadata": MEDIA_METADATA,
    value: [
      {
        MediaID: 1001,
        Category: 1,
        MD5: v(1).md5.toUpperCase(),
        SHA1: v(1).sha1.toUpperCase(),
        PhotoDNA: v(1).photodnaBase64,
        MediaSize: 2835,
        DateUpdated: "2024-01-02T03:04:05.0000Z",
        IsPrecategorized: "true",
        IsDistributed: false,
        Series: "",
        VictimIdentified: false,
        OffenderIdentified: false,
        Tags: ["synthetic", "fixture"],
      },
      {
        MediaID: "SYN-1002",
        Category: "2",
        MD5: v(2).md5.toUpperCase(),
        SHA1: null,
        PhotoDNA: "",
        Hashes: [
          { HashName: "PDQ", HashValue: v(2).pdq },
          { HashName: "SHA256", HashValue: v(2).sha256 },
          { HashName: "MD5", HashValue: v(2).md5 },
        ],
      },
      {
        MediaID: 1003,
        Category: 0,
        PhotoDNA: v(3).photodnaHex,
        Hashes: [{ HashName: "SHA-1", HashValue: v(3).sha1 }],
        Comments: { Note: "synthetic test item" },
        MediaFiles: [{ FileName: "synthetic-1003.jpg", FilePath: "fixtures/" }],
      },
      {
        MediaID: "__NUMBER__",
        Category: 4,
        SHA1: v(4).sha1,
        MediaSize: 0,
        Tags: [],
      },
    ],
  }).replace('"__NUMBER__"', "18014398509481985"), // larger than 2^53: MediaIDs are kept as written
);

// #Cases (VICS 1.3, Griffeye, IPED): Media arrays inside Case objects; lower-case hashName/hashValue.
write(
  "vics-cases.json",
  pretty({
    "odata.metadata": CASES_METADATA,
    value: [
      {
        CaseID: 1,
        CaseNumber: "SYNTHETIC-CASE-1",
        Media: [
          { MediaID: 11, Category: 1, MD5: v(11).md5, SHA1: v(11).sha1 },
          { MediaID: 12, Category: 2, MD5: v(12).md5, MediaFiles: [{ FileName: "synthetic-12.png" }] },
        ],
        SourceApplicationName: "phmatch fixture",
      },
      { CaseID: 2, Media: [] },
      {
        CaseID: 3,
        Media: [
          {
            MediaID: 13,
            Category: 3,
            Hashes: [
              { hashName: "PhotoDNA", hashValue: v(13).photodnaBase64 },
              { hashName: "pdq", hashValue: v(13).pdq },
            ],
          },
        ],
      },
    ],
  }),
);

// Wrong lengths and a non-hex digit; item 22 still has a valid MD5.
write(
  "bad-hex-length.json",
  pretty({
    "odata.metadata": MEDIA_METADATA,
    value: [
      { MediaID: 21, Category: 1, MD5: v(21).md5.slice(0, 31) },
      { MediaID: 22, Category: 1, MD5: v(22).md5, SHA1: "g" + v(22).sha1.slice(1) },
      { MediaID: 23, Category: 2, Hashes: [{ HashName: "SHA256", HashValue: v(23).sha256.slice(0, 63) }] },
      { MediaID: 24, Category: 2, MD5: v(24).md5 },
    ],
  }),
);

// A PhotoDNA that is no base64 at all, one that decodes to 100 bytes instead of 144, and a good one.
write(
  "bad-base64.json",
  pretty({
    "odata.metadata": MEDIA_METADATA,
    value: [
      { MediaID: 31, Category: 1, PhotoDNA: "not*base64!" },
      { MediaID: 32, Category: 1, PhotoDNA: Buffer.from(v(32).photodnaHex, "hex").subarray(0, 100).toString("base64") },
      { MediaID: 33, Category: 1, PhotoDNA: v(33).photodnaBase64, MD5: v(33).md5 },
    ],
  }),
);

// Two complete Media objects, then the file stops in the middle of the third one's SHA1.
{
  const full = pretty({
    "odata.metadata": MEDIA_METADATA,
    value: [
      { MediaID: 41, Category: 1, MD5: v(41).md5 },
      { MediaID: 42, Category: 2, MD5: v(42).md5, SHA1: v(42).sha1 },
      { MediaID: 43, Category: 3, MD5: v(43).md5, SHA1: v(43).sha1 },
    ],
  });
  write("truncated.json", full.slice(0, full.indexOf(v(43).sha1) + 12));
}

// Hash names phmatch has no algorithm for.
write(
  "unknown-hashname.json",
  pretty({
    "odata.metadata": MEDIA_METADATA,
    value: [
      {
        MediaID: 51,
        Category: 1,
        MD5: v(51).md5,
        Hashes: [
          { HashName: "SHA3-256", HashValue: v(51).sha256 },
          { HashName: "PDQ", HashValue: v(51).pdq },
        ],
      },
      { MediaID: 52, Category: 1, Hashes: [{ HashName: "NeuralHash", HashValue: v(52).md5.slice(0, 24) }] },
      { MediaID: 53, Category: 2, SHA1: v(53).sha1, Hashes: [{ HashName: "SHA3-256", HashValue: v(53).sha256 }] },
    ],
  }),
);

// Media objects without any hash value.
write(
  "no-hash.json",
  pretty({
    "odata.metadata": MEDIA_METADATA,
    value: [
      { MediaID: 71, Category: 1, MediaSize: 100 },
      { MediaID: 72, Category: 1, MD5: null, PhotoDNA: "", Hashes: [] },
      { MediaID: 73, Category: 1, MD5: v(73).md5 },
    ],
  }),
);

// A byte-order mark and Windows line endings, as Windows tools write them.
write(
  "bom-crlf.json",
  "\uFEFF" +
    pretty({
      "odata.metadata": MEDIA_METADATA,
      value: [
        { MediaID: 61, Category: 1, MD5: v(61).md5, SHA1: v(61).sha1 },
        { MediaID: 62, Category: 2, PhotoDNA: v(62).photodnaBase64 },
      ],
    }).replace(/\n/g, "\r\n"),
);

// Blank and whitespace-only lines between (and inside) objects, several Media on one line.
write(
  "empty-lines.json",
  [
    `{"odata.metadata": "${MEDIA_METADATA}",`,
    "",
    `"value": [`,
    "",
    "",
    `  {"MediaID": 81, "Category": 1, "MD5": "${v(81).md5}"},`,
    " \t ",
    `  {"MediaID": 82,`,
    "",
    `   "Category": 2, "SHA1": "${v(82).sha1}"}, {"MediaID": 83, "Category": 3, "MD5": "${v(83).md5}"}`,
    "",
    "]}",
    "",
  ].join("\n"),
);
