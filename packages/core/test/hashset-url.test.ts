// A list loaded from a list server (http URL) is verified exactly as a file is: signature over the bytes served,
// trailer, rollback state; a wrong signature, a missing one, or a damaged store is refused.
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateSigningKeys, loadHashSet, parseTrustedKeys, signStore } from "@phmatch/core";
import { ListVersionState } from "@phmatch/core/internal";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";

const store = readFileSync(fixtures("hashsets/demo.phs"));
const signer = generateSigningKeys();
const other = generateSigningKeys();
const files = new Map<string, Buffer>([
  ["/lists/demo.phs", store],
  ["/lists/demo.phs.sig", Buffer.from(signStore(store, signer.privateKeyPem))],
  ["/lists/unsigned.phs", store],
  [
    "/lists/damaged.phs",
    Buffer.concat([store.subarray(0, 100), Buffer.from([(store[100] as number) ^ 1]), store.subarray(101)]),
  ],
]);
files.set(
  "/lists/damaged.phs.sig",
  Buffer.from(signStore(files.get("/lists/damaged.phs") as Buffer, signer.privateKeyPem)),
);
let endlessBytesSent = 0;
const server = createServer((request, response) => {
  if (request.url === "/lists/endless.phs") {
    // A hostile list server: no Content-Length, and bytes for as long as the client reads.
    response.writeHead(200);
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const pump = () => {
      while (!response.destroyed && endlessBytesSent < 1024 ** 3 && response.write(chunk))
        endlessBytesSent += chunk.length;
    };
    response.on("drain", pump);
    pump();
    return;
  }
  const body = files.get(request.url ?? "");
  response.writeHead(body === undefined ? 404 : 200).end(body);
});
let base = "";
const state = mkdtempSync(join(tmpdir(), "phmatch-url-state-"));

beforeAll(async () => {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/lists`;
});
afterAll(() => {
  server.close();
  rmSync(state, { recursive: true, force: true });
});

describe("loadHashSet from an http URL", () => {
  it("loads a signed list with the file's SHA-256 and signer, and no local overrides", async () => {
    const loaded = await loadHashSet(`${base}/demo.phs`, {
      trustedKeys: parseTrustedKeys(signer.publicKeyPem),
      versionState: new ListVersionState(state),
    });
    const local = await loadHashSet(fixtures("hashsets/demo.phs"));
    expect(loaded.storeSha256).toBe(local.storeSha256);
    expect(loaded.set.lists).toEqual(local.set.lists);
    expect(loaded.signedBy).toBeDefined();
    expect(loaded.overrides).toEqual([]);
    expect(loaded.path).toBe(`${base}/demo.phs`);
  });

  it("refuses a list signed by another key, an unsigned one, a damaged one and a missing one", async () => {
    const trusted = parseTrustedKeys(other.publicKeyPem);
    await expect(loadHashSet(`${base}/demo.phs`, { trustedKeys: trusted })).rejects.toMatchObject({
      code: "PHM_HASHSET_SIGNATURE",
    });
    await expect(
      loadHashSet(`${base}/unsigned.phs`, { trustedKeys: parseTrustedKeys(signer.publicKeyPem) }),
    ).rejects.toMatchObject({ code: "PHM_HASHSET_SIGNATURE" });
    await expect(
      loadHashSet(`${base}/damaged.phs`, { trustedKeys: parseTrustedKeys(signer.publicKeyPem) }),
    ).rejects.toMatchObject({ code: "PHM_HASHSET_FORMAT" });
    await expect(loadHashSet(`${base}/gone.phs`)).rejects.toMatchObject({
      code: "PHM_FILE_NOT_FOUND",
      message: expect.stringContaining("HTTP 404"),
    });
  });

  it(
    "refuses a server that sends more than the limit, " + "as soon as it does, with or without a Content-Length",
    async () => {
      await expect(loadHashSet(`${base}/demo.phs`, { maxUrlBytes: store.length - 1 })).rejects.toMatchObject({
        code: "PHM_HASHSET_FORMAT",
        message: expect.stringContaining("more than"),
      });
      expect((await loadHashSet(`${base}/demo.phs`, { maxUrlBytes: store.length })).storeSha256).toBeDefined();
      await expect(loadHashSet(`${base}/endless.phs`, { maxUrlBytes: 4 * 1024 * 1024 })).rejects.toMatchObject({
        code: "PHM_HASHSET_FORMAT",
      });
      expect(endlessBytesSent).toBeLessThan(256 * 1024 * 1024); // stopped reading early, not after the server's 1 GiB
    },
  );
});
