#!/usr/bin/env node
import { run } from "./program.js";

// A reader that stops early (`phmatch hash ... | head`) is not an error: stop quietly. The pool's child
// process exits when this process does.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});
// Nor is a reader of the progress lines that goes away: the work (a scan writing its report to a file) goes on,
// without the words nobody reads, and ends with its own exit code.
process.stderr.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
});

process.exitCode = await run(process.argv);
