// The docs hold together: every relative link in README.md, the packages' READMEs and docs/**/*.md names a file
// that exists (and, into a markdown file, a heading that exists), and the README stays a front door (at most 200
// lines; the rest lives under docs/).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "./support/conformance.js";

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith(".md") ? [path] : [];
  });
}

/** The targets of inline links and images, `[text](target)`, outside code blocks and code spans. */
function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "");
  const targets = [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1] ?? "");
  return targets.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

function anchors(markdown: string): Set<string> {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, "");
  return new Set([...prose.matchAll(/^#{1,6}\s+(.+?)\s*$/gm)].map((m) => slug(m[1] ?? "")));
}

/** The link's problem, or undefined when it resolves. */
function brokenLink(file: string, target: string): string | undefined {
  const [pathPart = "", anchor] = target.split("#");
  const path = pathPart === "" ? file : join(dirname(file), decodeURIComponent(pathPart));
  if (!existsSync(path)) return `${target}: no such file`;
  if (anchor !== undefined && path.endsWith(".md") && !anchors(readFileSync(path, "utf8")).has(anchor)) {
    return `${target}: no heading with that anchor`;
  }
  return undefined;
}

const packageReadmes = readdirSync(join(projectRoot, "packages"))
  .map((name) => join(projectRoot, "packages", name, "README.md"))
  .filter(existsSync);
const files = [join(projectRoot, "README.md"), ...packageReadmes, ...markdownFiles(join(projectRoot, "docs"))];

describe("documentation links", () => {
  it("finds links in code-free prose only", () => {
    const sample = "[a](docs/x.md#y) [b](https://e.org) [c](#top) `[d](no.md)`\n```\n[e](no2.md)\n```\n![f](img.png)";
    expect(relativeLinks(sample)).toEqual(["docs/x.md#y", "#top", "img.png"]);
    expect(slug("Scaling out: `phmatch worker` & replicas")).toBe("scaling-out-phmatch-worker--replicas");
  });

  it.each(files.map((f) => relative(projectRoot, f)))("every relative link in %s names an existing file", (file) => {
    const path = join(projectRoot, file);
    const broken = relativeLinks(readFileSync(path, "utf8")).flatMap((target) => brokenLink(path, target) ?? []);
    expect(broken, `${file} has links that do not resolve`).toEqual([]);
  });

  it("README.md is at most 200 lines", () => {
    const lines = readFileSync(join(projectRoot, "README.md"), "utf8").split("\n").length - 1;
    expect(lines).toBeLessThanOrEqual(200);
  });
});
