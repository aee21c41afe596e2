import { PhmatchError } from "@phmatch/core";
import { type Command, CommanderError } from "commander";
import type { CliErrorCode } from "./errors.js";

/** Exit codes of `phmatch`, documented in docs/errors.md (generated from this table); stable across versions. */
export const EXIT_CODES = {
  /** Everything asked for was done. */
  OK: 0,
  /** An unexpected internal error (a bug): report it with the command line, never with the images. */
  INTERNAL: 1,
  /** The command ran, but one or more inputs failed (records or the report carry the error codes and lines). */
  INPUT_FAILED: 2,
  /** A hash set must not be used: bad or missing signature, damaged store, rollback, wrong key, nothing to match. */
  VERIFICATION_FAILED: 3,
  /** The command line was wrong (unknown option, bad value): nothing was done. */
  USAGE: 64,
} as const;

/** The exit code for an error code that ended a command (any command but `check`, which answers like grep). */
export function exitCodeFor(code: CliErrorCode): number {
  switch (code) {
    case "PHM_USAGE":
      return EXIT_CODES.USAGE;
    case "PHM_HASHSET_SIGNATURE":
    case "PHM_HASHSET_FORMAT":
    case "PHM_IGNORABLE_FORMAT":
    case "PHM_HASHSET_ROLLBACK":
    case "PHM_HASHSET_KEY":
    case "PHM_REPORT_ALTERED":
    case "PHM_AUDIT_ALTERED":
    case "PHM_QUEUE_LIST_MISMATCH":
    case "PHM_QUEUE_IGNORABLE_MISMATCH":
    case "PHM_HASHSET_EMPTY":
    case "PHM_STATE_LOCKED":
    case "PHM_HASHSET_LIST_CHANGE":
    case "PHM_REMATCH_SINCE":
    case "PHM_JOURNAL_ALTERED":
    case "PHM_JOURNAL_KEY":
      return EXIT_CODES.VERIFICATION_FAILED;
    case "PHM_INTERNAL":
      return EXIT_CODES.INTERNAL;
    default:
      return EXIT_CODES.INPUT_FAILED;
  }
}

/**
 * How a command finished, with the exit code it asks for: thrown by an action that ran to its end but whose answer
 * is not plain success (some inputs failed; `check` found a match), as commander's CommanderError carries its
 * `exitCode`. run() returns the code; nothing is kept between runs.
 */
export class CommandExit extends Error {
  readonly exitCode: number;

  constructor(exitCode: number) {
    super(`the command finished with exit code ${exitCode}`);
    this.name = "CommandExit";
    this.exitCode = exitCode;
  }
}

/** Maps an error that ended a command (a usage error from commander included) to the exit code. */
export type ErrorExitCodes = (error: unknown) => number;

/** The mapping of every command that does not declare its own: see EXIT_CODES. */
export const defaultErrorExitCodes: ErrorExitCodes = (error) => {
  if (error instanceof CommanderError) return EXIT_CODES.USAGE;
  if (error instanceof PhmatchError) return exitCodeFor(error.code as CliErrorCode);
  return EXIT_CODES.INTERNAL;
};

// Declared by command objects, which are made afresh for every run: configuration, not state kept between runs.
const declared = new WeakMap<Command, ErrorExitCodes>();

/** Declares how errors that end `command` become exit codes (`check`: every error is 2). Returns the command. */
export function withErrorExitCodes(command: Command, mapping: ErrorExitCodes): Command {
  declared.set(command, mapping);
  return command;
}

/** The exit code for an error that ended `command`, by the mapping it declared or the default one. */
export function errorExitCode(command: Command, error: unknown): number {
  return (declared.get(command) ?? defaultErrorExitCodes)(error);
}
