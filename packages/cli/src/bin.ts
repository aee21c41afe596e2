#!/usr/bin/env node
import { run } from "./program.js";

// A reader that stops early (`phmatch hash ... | head`) is not an error: stop quietly. The pool's child
// process exits when this process does.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await run(process.argv);
