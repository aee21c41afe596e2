// Writes the synthetic CSV/TSV hash lists of this folder. Every value is derived from a harmless word (md5/sha1/
// sha256 of the word, or SHA-256 stand-ins for PDQ, pHash, dHash, blockhash and PhotoDNA); no value comes from a
// real hash list. Run: node test-fixtures/hashsets/csv/generate.mjs
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";

const here = new URL("./", import.meta.url);
const h = (alg, s) => createHash(alg).update(s).digest("hex");
// 144 bytes (PhotoDNA length) derived from a harmless word: not a PhotoDNA of anything.
const bytes144 = (word) =>
  Buffer.concat([0, 1, 2, 3, 4].map((i) => createHash("sha256").update(`photodna:${word}:${i}`).digest())).subarray(
    0,
    144,
  );
const V = {
  md5apple: h("md5", "apple"),
  sha1bicycle: h("sha1", "bicycle"),
  sha256cloud: h("sha256", "cloud"),
  pdqkettle: h("sha256", "pdq:kettle"),
  phashlantern: h("sha256", "phash:lantern").slice(0, 16),
  pdnaMeadow: bytes144("meadow").toString("base64"),
  pdnaNutmeg: bytes144("nutmeg").toString("hex"),
  md5garden: h("md5", "garden"),
  sha1harbour: h("sha1", "harbour"),
  dhashIsland: h("sha256", "dhash:island").slice(0, 16),
  md5orange: h("md5", "orange"),
  sha256river: h("sha256", "river"),
  blockhashSaddle: h("sha256", "blockhash:saddle"),
  md5pebble: h("md5", "pebble"),
  md5quartz: h("md5", "quartz"),
  md5violet: h("md5", "violet"),
  md5walnut: h("md5", "walnut"),
  md5cloud: h("md5", "cloud"),
  sha1cloud: h("sha1", "cloud"),
};
const write = (name, text) => writeFileSync(new URL(name, here), text);
const lf = (lines) => lines.join("\n") + "\n";

write(
  "mixed.csv",
  lf([
    "algorithm,hash,category,id,source,note",
    `md5,${V.md5apple},A,entry-0001,hotline-x,plain row`,
    `SHA-1,${V.sha1bicycle},B,entry-0002,hotline-x,"quoted, with a comma"`,
    `sha256,${V.sha256cloud},,entry-0003,hotline-y,"she said ""hello"""`,
    `PDQ,${V.pdqkettle.toUpperCase()},1,entry-0004,,`,
    `phash,${V.phashlantern},2,,hotline-y,"two`,
    `lines"`,
    `PhotoDNA,${V.pdnaMeadow},A,entry-0006,hotline-x,`,
    `pdna,${V.pdnaNutmeg},B,entry-0007,hotline-z,last row`,
  ]),
);
write(
  "mixed.tsv",
  lf([
    "algorithm\thash\tcategory\tid\tnote",
    `md5\t${V.md5garden}\tA\tt-1\tcomma, inside is text`,
    `sha1\t${V.sha1harbour}\tB\tt-2\t"a quoted\ttab"`,
    `dhash\t${V.dhashIsland}\t\tt-3\t`,
  ]),
);
write(
  "semicolon.csv",
  lf([
    `Algorithm;Hash;Category;ID;"Comment, as given: free text, any language, any length, any script"`,
    `MD5;${V.md5orange};A;s-1;commas, unquoted, are text here`,
    `sha-256;${V.sha256river};B;s-2;a 5" tall "glass"`,
    `blockhash;${V.blockhashSaddle};;s-3;`,
  ]),
);
write("no-algorithm.csv", lf(["hash,category,id", `${V.md5pebble},A,n-1`, `${V.md5quartz},,n-2`]));
write(
  "custom-columns.csv",
  lf([
    "Reference,MD5 Hash,Classification,Comment",
    `c-1,${V.md5violet},Category A,first`,
    `c-2,${V.md5walnut},Category B,`,
  ]),
);
write(
  "malformed.csv",
  lf([
    "algorithm,hash,category,id",
    `md5,${V.md5apple},A,m-1`,
    `md5,${V.md5cloud.slice(0, 31)},A,m-2`,
    `photodna,not*base64*at*all,A,m-3`,
    `md5,${V.md5garden},A,m-4,surplus`,
    `sha1,${V.sha1bicycle},A`,
    ``,
    `fuzzyhash,abcdef,A,m-6`,
    `sha1,${"z".repeat(40)},B,m-7`,
    `md5,,A,m-8`,
    `,${V.md5orange},A,m-9`,
    `sha256,${V.sha256cloud},B,m-10`,
  ]),
);
write(
  "bom-crlf.csv",
  "\ufeff" +
    [
      `"algorithm",hash,id,note`,
      `md5,${V.md5apple},b-1,first`,
      ``,
      `sha1,${V.sha1bicycle},b-2,"two\r\nlines"`,
      ``,
      `md5,${V.md5cloud},b-3,after`,
    ].join("\r\n") +
    "\r\n",
);
write(
  "blank-lines.tsv",
  lf(["", "", "algorithm\thash", `md5\t${V.md5apple}`, "   ", "", `sha1\t${V.sha1bicycle}`, ""]),
);
write(
  "unclosed-quote.csv",
  lf([
    "algorithm,hash,note",
    `md5,${V.md5apple},ok`,
    "",
    `md5,${V.md5cloud},"never closed`,
    `sha1,${V.sha1cloud},swallowed by the open quote`,
  ]),
);
