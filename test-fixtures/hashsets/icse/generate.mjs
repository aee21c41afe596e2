// Writes the synthetic INTERPOL ICSE CSV exports of this folder. Every value is derived from a harmless word
// (md5/sha1 of the word, SHA-256 stand-ins for PhotoDNA); Image IDs and series names are made up. No value comes
// from a real hash list. Run: node test-fixtures/hashsets/icse/generate.mjs
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
  md5teapot: h("md5", "teapot"),
  sha1teapot: h("sha1", "teapot"),
  pdnaTeapot: bytes144("teapot").toString("base64"),
  md5yarn: h("md5", "yarn"),
  sha1zebra: h("sha1", "zebra"),
  pdnaZebra: bytes144("zebra").toString("hex"),
  md5anchor: h("md5", "anchor"),
  sha1anchor: h("sha1", "anchor"),
  md5button: h("md5", "button"),
  sha1button: h("sha1", "button"),
  md5candle: h("md5", "candle"),
  sha1candle: h("sha1", "candle"),
  md5daisy: h("md5", "daisy"),
  sha1daisy: h("sha1", "daisy"),
  md5ember: h("md5", "ember"),
  sha1ember: h("sha1", "ember"),
  pdnaShort: Buffer.alloc(100, 7).toString("base64"),
};
const write = (name, text) => writeFileSync(new URL(name, here), text);
const lf = (lines) => lines.join("\n") + "\n";

const ICSE_HEADER =
  "MD5;SHA1;PhotoDNA;Image ID;Is distributed;Victim identified;Offender identified;Series name;Number of submissions;File Available;Media Type;Baseline";
write(
  "export.csv",
  lf([
    ICSE_HEADER,
    `${V.md5teapot};${V.sha1teapot};${V.pdnaTeapot};900001;Yes;No;No;synthetic-series-alpha;3;Yes;Image;Yes`,
    `${V.md5yarn};;;900002;No;No;No;;1;No;Image;No`,
    `;${V.sha1zebra};${V.pdnaZebra};900003;Yes;Yes;No;synthetic-series-beta;12;Yes;Video;true`,
    `${V.md5anchor};${V.sha1anchor};;900004;No;No;No;;2;Yes;Image;`,
  ]),
);
write(
  "header-variations.csv",
  "\ufeff" +
    [
      " md5 ;Sha1;photodna ; image id ;Is distributed;Victim identified;Offender identified;SERIES NAME;Number of submissions;File Available;Media Type;BASELINE ",
      `${V.md5button};${V.sha1button};;910001;Yes;No;No;synthetic-series-gamma;1;Yes;Image;1`,
      `${V.md5candle.toUpperCase()};${V.sha1candle};;910002;No;No;No;;1;Yes;Image;YES`,
    ].join("\r\n") +
    "\r\n",
);
write(
  "malformed.csv",
  lf([
    ICSE_HEADER,
    `${V.md5daisy};;;920001;No;No;No;;1;Yes;Image;No`,
    `${V.md5ember.slice(0, 31)};${V.sha1ember};;920002;No;No;No;;1;Yes;Image;No`,
    `;;${V.pdnaShort};920003;No;No;No;;1;Yes;Image;No`,
    `;;;920004;No;No;No;;1;Yes;Image;No`,
    `${V.md5teapot};${V.sha1teapot};;920005;No;No`,
    ``,
    `${V.md5yarn};${"g".repeat(40)};not*base64;920006;No;No;No;;1;Yes;Image;Yes`,
    `${V.md5anchor};${V.sha1anchor};;920007;No;No;No;synthetic-series-delta;4;Yes;Image;Yes`,
  ]),
);
write(
  "missing-columns.csv",
  lf(["MD5;Checksum;Image Number;Baseline", `${V.md5daisy};${V.sha1daisy};1;Yes`, `${V.md5ember};${V.sha1ember};2;No`]),
);
