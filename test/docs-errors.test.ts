// docs/errors.md is generated from the error table of the built packages (scripts/docs-errors.mjs), so it cannot
// drift: this fails when the page differs from what the script renders now.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { projectRoot } from "./support/conformance.js";

const script = pathToFileURL(join(projectRoot, "scripts", "docs-errors.mjs")).href;

describe("docs/errors.md", () => {
  it("is what scripts/docs-errors.mjs generates from the error table", async () => {
    const { renderErrorsPage } = (await import(script)) as { renderErrorsPage: () => Promise<string> };
    const expected = await renderErrorsPage();
    const actual = readFileSync(join(projectRoot, "docs", "errors.md"), "utf8");
    expect(actual === expected, "docs/errors.md is out of date with the error table: run `npm run docs:errors`").toBe(
      true,
    );
  });
});
