import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { PhmatchError } from "@phmatch/core";
import { hashCommand } from "./commands/hash.js";
import { EXIT_CODES } from "./exit-codes.js";

const version = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

/** The `phmatch` command with all subcommands. */
export function createProgram(): Command {
  const program = new Command("phmatch")
    .description("perceptual-hash known-image matching against hash lists of known material")
    .version(version)
    .exitOverride()
    .showHelpAfterError("(run phmatch --help for usage)");
  program.addCommand(hashCommand().exitOverride());
  return program;
}

/** Runs the CLI and returns its exit code (see EXIT_CODES). */
export async function run(argv: string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync(argv);
    const sub = program.commands.find((c) => c.name() === program.args[0]);
    const code = sub?.getOptionValue("exitCode") as number | undefined;
    return code ?? EXIT_CODES.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end with exitCode 0; anything else is a usage error, already printed.
      return error.exitCode === 0 ? EXIT_CODES.OK : EXIT_CODES.USAGE;
    }
    if (error instanceof PhmatchError && error.code === "PHM_USAGE") {
      process.stderr.write(`phmatch: ${error.message}\n`);
      return EXIT_CODES.USAGE;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`phmatch: internal error: ${message}\n`);
    return EXIT_CODES.INTERNAL;
  }
}
