import { Command } from "commander";
import { buildCommand } from "./build.js";
import { diffCommand } from "./diff.js";
import { exportCommand } from "./export.js";
import { importCommand } from "./import.js";
import { infoCommand } from "./info.js";
import { mergeCommand } from "./merge.js";
import { overrideCommand } from "./override.js";
import { keygenCommand, signCommand } from "./sign.js";
import { verifyCommand } from "./verify.js";

/** `phmatch hashset ...`: hash lists as hotlines and law enforcement ship them. */
export function hashsetCommand(): Command {
  const hashset = new Command("hashset")
    .description("import, build, inspect, sign, verify, diff, export and merge hash lists (.phs stores)")
    .addHelpText(
      "after",
      "\nExample:\n  phmatch hashset import list.csv --list-id mylist -o mylist.phs && phmatch hashset info " +
        "mylist.phs\n",
    );
  for (const sub of [
    importCommand(),
    buildCommand(),
    infoCommand(),
    verifyCommand(),
    signCommand(),
    keygenCommand(),
    diffCommand(),
    exportCommand(),
    mergeCommand(),
    overrideCommand(),
  ]) {
    hashset.addCommand(sub);
  }
  return hashset;
}
