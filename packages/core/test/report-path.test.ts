// How scan reports write paths that are not valid UTF-8 (PATH_ESCAPE): a reversible escape that never merges two
// names, and leaves a UTF-8 name exactly as it is.

import { pathBytesOf, reportPath, reportPathFields, unescapeReportPath } from "@phmatch/core/internal";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const notUtf8 = (bytes: Uint8Array) => pathBytesOf(Buffer.from(bytes)) !== undefined;

describe("reportPath", () => {
  it("writes a UTF-8 path as it is, % and all", () => {
    expect(reportPath(Buffer.from("dir/100% ünïcödé 😀.png"))).toBe("dir/100% ünïcödé 😀.png");
    expect(reportPathFields(Buffer.from("a%FF.png"))).toEqual({ path: "a%FF.png" });
  });

  it("escapes each byte outside a valid UTF-8 sequence as %XX and each % as %25, keeping valid characters", () => {
    // 0xC3 0xA9 is é; 0xED 0xA0 0x80 would be a surrogate, 0xC0 0xAF an overlong "/": neither is UTF-8.
    const bytes = Buffer.from([
      0x61, 0xff, 0x25, 0xc3, 0xa9, 0xed, 0xa0, 0x80, 0xc0, 0xaf, 0xf0, 0x9f, 0x98, 0x80, 0xe2, 0x82,
    ]);
    expect(reportPath(bytes)).toBe("a%FF%25é%ED%A0%80%C0%AF😀%E2%82");
    expect(reportPathFields(bytes)).toEqual({
      path: "a%FF%25é%ED%A0%80%C0%AF😀%E2%82",
      pathBytes: bytes.toString("base64"),
    });
  });

  it("round-trips every path that is not UTF-8, and never writes two of them alike", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 24 }),
        fc.uint8Array({ minLength: 1, maxLength: 24 }),
        (a, b) => {
          fc.pre(notUtf8(a) && notUtf8(b));
          expect(unescapeReportPath(reportPath(Buffer.from(a)))).toEqual(Buffer.from(a));
          if (!Buffer.from(a).equals(Buffer.from(b)))
            expect(reportPath(Buffer.from(a))).not.toBe(reportPath(Buffer.from(b)));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
