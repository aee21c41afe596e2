import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { buildDigestStore, type DigestAlgorithm, type DigestStoreBuildResult } from "@phmatch/core/internal";
import { CliError } from "../errors.js";

/** How an NSRL RDS version 3 database is read into a digest store. */
export interface NsrlImportOptions {
  algorithm: DigestAlgorithm;
  /** The `.phd` store to write. */
  output: string;
  /** Who or what the digests are (kept in the store's source description), e.g. "NSRL RDS 2024.12.1 modern". */
  source?: string;
  ramBudgetBytes?: number;
  tempDir?: string;
}

/** What an import did: the store written, where the digests were read, and the rows that were not digests. */
export interface NsrlImportResult extends DigestStoreBuildResult {
  table: string;
  column: string;
  /** Rows read from the table or view. */
  rows: number;
  /** Rows whose value was not a hex digest of the algorithm (NULL, another length, not hex): skipped. */
  malformed: number;
  /** The first malformed rows, by their 1-based position in the table's scan order. */
  malformedRows: number[];
}

/** Hex digits per digest. */
const HEX_LENGTH: Record<DigestAlgorithm, number> = { md5: 32, sha1: 40, sha256: 64 };
/**
 * Where RDSv3 keeps its per-file digests, in the order tried: the base table METADATA, then FILE (a view over it in
 * the full sets, a table in the minimal ones). Compared case-insensitively, as SQLite compares names.
 */
const DIGEST_TABLES = ["metadata", "file"];
const MAX_MALFORMED_SHOWN = 20;

type Sqlite = typeof import("node-sqlite3-wasm");
type Database = InstanceType<Sqlite["Database"]>;

function formatError(path: string, why: string): CliError {
  return new CliError("PHM_NSRL_FORMAT", `${path}: ${why}; nothing was written`, { path });
}

/** `"name"` with its quotes doubled: an identifier SQLite reads back as exactly `name`. */
function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Reads the digest column of an NSRL RDS version 3 database (an SQLite file, read page by page through the file
 * system by node-sqlite3-wasm, never loaded whole) into a digest store, within the RAM budget. The database is
 * opened read-only with `query_only` on. The table is found from the schema, not assumed: METADATA, else FILE, the
 * first holding a column named as the algorithm (md5, sha1, sha256; any case); none is refused naming the tables and
 * columns found (fail closed). Each value must be exactly the algorithm's hex digits (either case); other rows (NULL,
 * blobs, other lengths) are counted and skipped: a skipped row can only set fewer files aside, never more. A file
 * that is not an SQLite database, or a damaged page, is `PHM_NSRL_FORMAT` and nothing is written.
 */
export async function importNsrl(path: string, options: NsrlImportOptions): Promise<NsrlImportResult> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new CliError(
      error.code === "ENOENT" ? "PHM_FILE_NOT_FOUND" : "PHM_FILE_UNREADABLE",
      `${path}: cannot read the NSRL database (${error.code ?? error.message})`,
      { path },
    );
  });
  if (!info.isFile()) throw formatError(path, "not a regular file");
  const { Database } = ((await import("node-sqlite3-wasm")) as unknown as { default: Sqlite }).default;
  let db: Database;
  try {
    db = new Database(path, { readOnly: true });
  } catch (error) {
    throw formatError(path, `cannot be opened as an SQLite database (${(error as Error).message})`);
  }
  try {
    const { table, column } = findDigestColumn(db, path, options.algorithm);
    const width = HEX_LENGTH[options.algorithm];
    const hex = /^[0-9a-fA-F]+$/;
    let rows = 0;
    let malformed = 0;
    const malformedRows: number[] = [];
    const statement = db.prepare(`SELECT ${quoteIdentifier(column)} FROM ${quoteIdentifier(table)}`);
    function* digests(): Generator<Uint8Array> {
      try {
        for (const row of statement.iterate()) {
          rows++;
          const value = Object.values(row)[0];
          if (typeof value === "string" && value.length === width && hex.test(value)) {
            yield Buffer.from(value, "hex");
            continue;
          }
          malformed++;
          if (malformedRows.length < MAX_MALFORMED_SHOWN) malformedRows.push(rows);
        }
        // Nothing usable is a wrong column or an empty set, not a list: refused before the store is finished.
        if (rows === malformed)
          throw formatError(path, `${table}.${column} holds no ${options.algorithm} digest (${rows} rows, none valid)`);
      } catch (error) {
        throw error instanceof CliError
          ? error
          : formatError(path, `reading ${table}.${column} failed at row ${rows + 1} (${(error as Error).message})`);
      } finally {
        statement.finalize();
      }
    }
    const source = `${options.source ?? `NSRL RDS ${basename(path)}`}, ${options.algorithm} from ${table}.${column}`;
    const built = await buildDigestStore(
      {
        algorithm: options.algorithm,
        output: options.output,
        source,
        ...(options.ramBudgetBytes !== undefined && { ramBudgetBytes: options.ramBudgetBytes }),
        ...(options.tempDir !== undefined && { tempDir: options.tempDir }),
      },
      digests(),
    );
    return { ...built, table, column, rows, malformed, malformedRows };
  } finally {
    db.close();
  }
}

// The table or view, and its column, holding the algorithm's digests; refused, naming what is there, when none does.
function findDigestColumn(db: Database, path: string, algorithm: DigestAlgorithm): { table: string; column: string } {
  let objects: { name: string; type: string }[];
  try {
    db.exec("PRAGMA query_only = 1");
    objects = db
      .all("SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name")
      .map((row) => ({ name: String(row.name), type: String(row.type) }));
  } catch (error) {
    throw formatError(path, `is not a readable SQLite database (${(error as Error).message})`);
  }
  const seen: string[] = [];
  for (const wanted of DIGEST_TABLES) {
    const object = objects.find((o) => o.name.toLowerCase() === wanted);
    if (object === undefined) continue;
    const columns = db.all(`PRAGMA table_info(${quoteIdentifier(object.name)})`).map((row) => String(row.name));
    const column = columns.find((c) => c.toLowerCase() === algorithm);
    if (column !== undefined) return { table: object.name, column };
    seen.push(`${object.type} ${object.name} (${columns.join(", ")})`);
  }
  const others = objects.filter((o) => !DIGEST_TABLES.includes(o.name.toLowerCase())).map((o) => o.name);
  throw formatError(
    path,
    `no METADATA or FILE table or view with a ${algorithm} column, as NSRL RDS version 3 has: found ` +
      `${seen.length > 0 ? seen.join("; ") : "neither"}` +
      `${others.length > 0 ? `; other tables and views: ${others.slice(0, 20).join(", ")}` : ""}`,
  );
}
