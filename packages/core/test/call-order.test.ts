import { describe, expect, it } from "vitest";
import { CallOrder } from "../src/pool/ordered-map.js";

// The scan claims "first copy of these bytes" through CallOrder: a later copy whose SHA-256 read ends sooner must
// not become the first (two scans of one tree gave different duplicateOf under load before it).
describe("CallOrder", () => {
  const later = () => {
    let resolve!: (v: string) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<string>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };

  it("runs sections in call order, whatever order their inputs become ready in", async () => {
    const order = new CallOrder();
    const ran: string[] = [];
    const inputs = [later(), later(), later(), later()];
    const results = inputs.map((input, i) =>
      order.run(input.promise, (v) => {
        ran.push(`${i}:${v}`);
        return i;
      }),
    );
    // Ready last-to-first: no section may run before the ones asked for earlier.
    for (const [i, input] of [...inputs.entries()].reverse()) {
      input.resolve(String(i));
      await new Promise((r) => setImmediate(r));
      if (i > 0) expect(ran).toEqual([]);
    }
    expect(await Promise.all(results)).toEqual([0, 1, 2, 3]);
    expect(ran).toEqual(["0:0", "1:1", "2:2", "3:3"]);
  });

  it("goes on past a failed input or section, in order, and hands the failure to its own caller", async () => {
    const order = new CallOrder();
    const ran: number[] = [];
    const [a, b, c] = [later(), later(), later()];
    const ra = order.run(a.promise, () => ran.push(0));
    const rb = order.run(b.promise, () => {
      throw new Error("section failed");
    });
    const rc = order.run(c.promise, () => ran.push(2));
    c.resolve("c");
    b.resolve("b");
    await new Promise((r) => setImmediate(r));
    expect(ran).toEqual([]);
    a.reject(new Error("read failed"));
    await expect(ra).rejects.toThrow("read failed");
    await expect(rb).rejects.toThrow("section failed");
    await rc;
    expect(ran).toEqual([2]);
  });
});
