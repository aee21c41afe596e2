// CI must not pass with the conformance suites skipped: with PHMATCH_REQUIRE_SHARED=1 (set by .ci/run), a missing
// ../shared fails the test files that read the conformance vectors instead of skipping them.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";

const support = fileURLToPath(new URL("support/conformance.ts", import.meta.url));

describe("conformance vectors missing", () => {
  // A clone of the support module with no ../shared beside it (each test imports its own copy: modules are cached).
  const clone = mkdtempSync(join(tmpdir(), "phmatch-no-shared-"));
  afterAll(() => rmSync(clone, { recursive: true, force: true }));
  afterEach(() => vi.unstubAllEnvs());
  const copy = (name: string) => {
    mkdirSync(join(clone, name, "repo", "test", "support"), { recursive: true });
    const path = join(clone, name, "repo", "test", "support", "conformance.ts");
    copyFileSync(support, path);
    return path;
  };

  it("fails, naming the folder, with PHMATCH_REQUIRE_SHARED=1", async () => {
    vi.stubEnv("PHMATCH_REQUIRE_SHARED", "1");
    await expect(import(copy("required"))).rejects.toThrow(
      `PHMATCH_REQUIRE_SHARED=1 and the conformance vectors are not found at ${join(clone, "required", "shared")}`,
    );
  });

  it("lets the suites skip without it", async () => {
    vi.stubEnv("PHMATCH_REQUIRE_SHARED", "");
    const module = (await import(copy("optional"))) as { hasConformance: boolean; skipReason: string };
    expect(module.hasConformance).toBe(false);
    expect(module.skipReason).toContain(join(clone, "optional", "shared", "conformance"));
  });
});
