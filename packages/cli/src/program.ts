import { readFileSync } from "node:fs";
import { PhmatchError } from "@phmatch/core";
import { Command, CommanderError } from "commander";
import { auditCommand } from "./commands/audit.js";
import { CHECK_EXIT, checkCommand } from "./commands/check.js";
import { feedbackCommand } from "./commands/feedback.js";
import { hashCommand } from "./commands/hash.js";
import { hashsetCommand } from "./commands/hashset/index.js";
import { listsCommand } from "./commands/lists.js";
import { matchCommand } from "./commands/match.js";
import { rematchCommand } from "./commands/rematch.js";
import { reportCommand } from "./commands/report.js";
import { scanCommand } from "./commands/scan.js";
import { serveCommand } from "./commands/serve.js";
import { workerCommand } from "./commands/worker.js";
import { CommandExit, EXIT_CODES, errorExitCode, withErrorExitCodes } from "./exit-codes.js";
import { cliMessage } from "./output.js";

const version = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string })
  .version;

/**
 * The `phmatch` command with all subcommands. A command file loads what only its action needs (fastify for serve,
 * BullMQ and ioredis for the distributed scan) inside the action, not at the top: every start of phmatch defines
 * every command, and those libraries cost the others ~0.25 s of start-up each time.
 */
export function createProgram(): Command {
  const program = new Command("phmatch")
    .description("perceptual-hash known-image matching against hash lists of known material")
    .version(version)
    .exitOverride()
    .showHelpAfterError("(run phmatch --help for usage)");
  program.addCommand(hashCommand());
  program.addCommand(hashsetCommand());
  program.addCommand(matchCommand());
  program.addCommand(rematchCommand());
  // `check` answers like grep: 0 no match, 1 match, 2 for every error, usage errors included.
  program.addCommand(withErrorExitCodes(checkCommand(), () => CHECK_EXIT.ERROR));
  program.addCommand(scanCommand());
  program.addCommand(reportCommand());
  program.addCommand(serveCommand());
  program.addCommand(workerCommand());
  program.addCommand(auditCommand());
  program.addCommand(feedbackCommand());
  program.addCommand(listsCommand());
  exitOverrideAll(program);
  return program;
}

/**
 * Runs the CLI and returns its exit code (see EXIT_CODES). Re-entrant: everything a run decides (the command, its
 * exit code) lives in this call, so tests and embedders can run it many times in one process.
 */
export async function run(argv: string[]): Promise<number> {
  const program = createProgram();
  // The subcommand being run, known before its options are parsed, so that its usage errors map its own way.
  let command: Command = program;
  program.hook("preSubcommand", (_program, subcommand) => {
    command = subcommand;
  });
  try {
    await program.parseAsync(argv);
    return EXIT_CODES.OK;
  } catch (error) {
    if (error instanceof CommandExit) return error.exitCode;
    if (error instanceof CommanderError) {
      // --help and --version end with exitCode 0; anything else is a usage error, already printed.
      return error.exitCode === 0 ? EXIT_CODES.OK : errorExitCode(command, error);
    }
    const typed = error instanceof PhmatchError ? error : fileError(error);
    if (typed !== undefined) {
      process.stderr.write(`phmatch: ${typed.code}: ${cliMessage(typed)}\n`);
      return errorExitCode(command, typed);
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`phmatch: internal error: ${message}\n`);
    return errorExitCode(command, error);
  }
}

// Commander errors (unknown option, missing argument) become exceptions in every subcommand, not process exits.
function exitOverrideAll(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) exitOverrideAll(sub);
}

/**
 * A file system error no command turned into a PhmatchError (a path it read or wrote directly): the path was
 * wrong or cannot be used, which is the user's to fix, not a bug. ENOENT is PHM_FILE_NOT_FOUND, the others that
 * name a path PHM_FILE_UNREADABLE (exit 2), with the path and what was being done.
 */
function fileError(error: unknown): PhmatchError | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, path, syscall } = error as NodeJS.ErrnoException;
  if (typeof code !== "string" || typeof path !== "string") return undefined;
  const doing = syscall === undefined ? "" : ` (${syscall})`;
  if (code === "ENOENT")
    return new PhmatchError("PHM_FILE_NOT_FOUND", `${path}: no such file or directory${doing}; check the path`, {
      path,
      cause: error,
    });
  if (["EACCES", "EPERM", "EISDIR", "ENOTDIR", "ELOOP", "EROFS", "ENAMETOOLONG", "EIO"].includes(code)) {
    return new PhmatchError("PHM_FILE_UNREADABLE", `${path}: ${error.message.replace(/^[A-Z]+: /, "")}`, {
      path,
      cause: error,
    });
  }
  return undefined;
}
