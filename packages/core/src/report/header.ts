import { PATH_ESCAPE } from "../files/file-path.js";
import type { LoadedHashSet } from "../hashset/load.js";
import { PHMATCH_VERSION } from "../version.js";
import { type ScanHeader, type ScanIgnorableList, type ScanWalkHeader, scanReportSchemaId } from "./scan-report.js";

/**
 * The header's statement of the walk: symbolic links recorded or followed, how paths that are not UTF-8 are
 * written, and what the scan does to access times (files: O_NOATIME; directories and links: watched, and set
 * back only with `restoreAtimes`).
 */
export function scanWalkHeader(options: {
  followSymlinks: boolean;
  restoreAtimes: boolean;
  manifest?: boolean;
}): ScanWalkHeader {
  const files =
    "files are opened read-only with O_NOATIME (which the kernel allows to their owner or root; " +
    "for others a plain read-only open is used, which may update their access time)";
  const watched =
    options.manifest === true
      ? "no directory is listed (the paths come from a manifest)"
      : "directories and symbolic links cannot be read with O_NOATIME from Node, " +
        "so each is lstat-ed before and after it is read" +
        (options.restoreAtimes
          ? "; one whose access time the scan changed is set back where its atime and mtime " +
            "can be written back exactly (to the microsecond, which Node writes; this sets its ctime), " +
            "and the summary's atimes.changed lists the others with their access time as found"
          : "; no timestamp is ever written: the summary's atimes.changed lists each " +
            "whose access time the scan changed, with its access time as found " +
            "(mount the evidence read-only or noatime to keep them all)");
  const followed = options.followSymlinks
    ? "; opening a path through a followed link may update the link's access time"
    : "";
  return {
    symlinks: options.followSymlinks ? "followed" : "recorded",
    paths: PATH_ESCAPE,
    accessTimes: `${files}; ${watched}${followed}`,
  };
}

/** The report's header: tool, lists with the SHA-256 of each store file, case and examiner. */
export function scanHeader(options: {
  inputs: string[];
  sets: LoadedHashSet[];
  algorithms: string[];
  policies: string[];
  case?: string;
  examiner?: string;
  walk?: ScanWalkHeader;
  rollbackState?: ScanHeader["rollbackState"];
  /** The `--ignorable` lists (header `ignorable`; absent when none). */
  ignorable?: ScanIgnorableList[];
}): ScanHeader {
  const lists: ScanHeader["lists"] = [];
  for (const loaded of options.sets) {
    for (const list of loaded.set.lists) {
      // What the store says the list was made from (read, taken, refused, how the input ended), when it says.
      const provenance = loaded.set.header.provenance?.filter((p) => p.lists.includes(list.listId));
      lists.push({
        listId: list.listId,
        version: list.version,
        store: loaded.path,
        storeSha256: loaded.storeSha256,
        ...(loaded.signedBy !== undefined && { signedBy: loaded.signedBy }),
        ...(provenance !== undefined && { provenance }),
      });
    }
  }
  const overrides: NonNullable<ScanHeader["overrides"]> = options.sets.flatMap((loaded) => {
    const o = loaded.overridesProvenance;
    return o === undefined
      ? []
      : [
          {
            store: loaded.path,
            count: o.count,
            ...(o.release !== undefined && { release: o.release }),
            ...(o.signedBy !== undefined && { signedBy: o.signedBy }),
            sha256: o.sha256,
          },
        ];
  });
  return {
    type: "header",
    schema: scanReportSchemaId(),
    tool: "phmatch",
    version: PHMATCH_VERSION,
    startedAt: new Date().toISOString(),
    ...(options.case !== undefined && { case: options.case }),
    ...(options.examiner !== undefined && { examiner: options.examiner }),
    inputs: options.inputs,
    ...(options.walk !== undefined && { walk: options.walk }),
    algorithms: options.algorithms,
    policies: options.policies,
    lists,
    ...(overrides.length > 0 && { overrides }),
    ...(options.rollbackState !== undefined && { rollbackState: options.rollbackState }),
    ...(options.ignorable !== undefined && options.ignorable.length > 0 && { ignorable: options.ignorable }),
  };
}
