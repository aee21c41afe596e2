import { writeFile } from "node:fs/promises";
import { type HashSetBuilder, PhmatchError, serializeStore } from "@phmatch/core";
import { encryptStore } from "@phmatch/core/internal";
import { listKey } from "./options.js";

/**
 * Writes a builder as a .phs store, encrypted when asked (the key from --key-file or PHMATCH_LIST_KEY). A store
 * without a single entry matches nothing, yet loads like any other: it is refused (PHM_HASHSET_EMPTY, nothing
 * written) unless `allowEmpty`; `why` says what the command read and refused, for the message.
 */
export async function writeStore(
  builder: HashSetBuilder,
  out: string,
  options: { encrypt?: boolean; keyFile?: string; allowEmpty?: boolean },
  why = "",
): Promise<void> {
  if (builder.entryCount === 0 && options.allowEmpty !== true) {
    throw new PhmatchError(
      "PHM_HASHSET_EMPTY",
      `no entry was taken${why}, so ${out} was not written: a list without entries matches nothing. Fix the ` +
        "input or the options; --allow-empty writes it anyway",
    );
  }
  let bytes: Buffer = serializeStore(builder);
  if (options.encrypt === true) {
    const key = listKey(options.keyFile);
    if (key === undefined) throw new PhmatchError("PHM_USAGE", "--encrypt needs a key: --key-file or PHMATCH_LIST_KEY");
    bytes = encryptStore(
      bytes,
      key,
      builder.lists.map((l) => ({ listId: l.listId, version: l.version })),
    );
  }
  await writeFile(out, bytes);
}
