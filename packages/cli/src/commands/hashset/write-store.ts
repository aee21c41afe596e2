import { writeFile } from "node:fs/promises";
import { PhmatchError, encryptStore, serializeStore, type HashSetBuilder } from "@phmatch/core";
import { listKey } from "./options.js";

/** Writes a builder as a .phs store, encrypted when asked (the key from --key-file or PHMATCH_LIST_KEY). */
export async function writeStore(builder: HashSetBuilder, out: string, options: { encrypt?: boolean; keyFile?: string }): Promise<void> {
  let bytes: Buffer = serializeStore(builder);
  if (options.encrypt === true) {
    const key = listKey(options.keyFile);
    if (key === undefined) throw new PhmatchError("PHM_USAGE", "--encrypt needs a key: --key-file or PHMATCH_LIST_KEY");
    bytes = encryptStore(bytes, key, builder.lists.map((l) => ({ listId: l.listId, version: l.version })));
  }
  await writeFile(out, bytes);
}
