#!/usr/bin/env node
// The `phmatch` command. This file is committed (dist/ is built later, by the workspace's `prepare` or a
// package's build), so npm finds it and links node_modules/.bin/phmatch when it installs; the command itself is
// dist/bundle/phmatch.js, the built dist/bin.js bundled with the core into a few files (scripts/bundle.mjs), which
// starts in a fraction of the time the ~200 modules took.
try {
  await import("../dist/bundle/phmatch.js");
} catch (error) {
  const missing = error?.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes("dist/bundle/phmatch.js");
  if (!missing) throw error;
  process.stderr.write("phmatch is not built yet: run `npm run build` in the phmatch checkout, then try again.\n");
  process.exitCode = 1;
}
