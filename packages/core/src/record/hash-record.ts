import { readFileSync } from "node:fs";
import type { ErrorCode } from "../errors/index.js";

/** Version of the hash record shape; bumped only with a new schema file. */
export const HASH_RECORD_VERSION = 1;

/** A file that hashed: hex per algorithm id, quality where the algorithm has one, dihedral variants if asked. */
export interface HashedRecord {
  path: string;
  hashes: Record<string, string>;
  quality?: Record<string, number>;
  dihedral?: Record<string, string[]>;
}

/** A file that did not hash, with a stable error code. */
export interface FailedRecord {
  path: string;
  error: { code: ErrorCode; message: string };
}

/** One line of `phmatch hash` output; see `schema/hash-record.schema.json`. */
export type HashRecord = HashedRecord | FailedRecord;

/** True if the record carries an error. */
export function isFailedRecord(record: HashRecord): record is FailedRecord {
  return "error" in record;
}

let schema: object | undefined;

/** The JSON Schema (draft 2020-12) of {@link HashRecord}, `$id` urn:phmatch:schema:hash-record:1. */
export function hashRecordSchema(): object {
  schema ??= JSON.parse(readFileSync(new URL("../../schema/hash-record.schema.json", import.meta.url), "utf8")) as object;
  return schema;
}
