import { type LoadedHashSet, PhmatchError } from "@phmatch/core";

// What the commands need of a distributed scan to define and check their options: names, defaults, the queue's
// address. Nothing here loads BullMQ or ioredis, so that the other commands start without them.

export const DEFAULT_SCAN_NAME = "scan";

/** Files per job by default: large enough that the queue costs little per file, small enough to spread. */
export const DEFAULT_BATCH_SIZE = 64;

/** Where a distributed scan's queue lives: a Redis server and database, from `redis://[user:pass@]HOST:PORT/N`. */
export interface QueueAddress {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** The URL as given, without its password (for messages). */
  display: string;
}

/** Parses `--queue`: redis:// or rediss:// (TLS), host, port (default 6379), database number (default 0). */
export function parseQueueUrl(text: string): QueueAddress {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PhmatchError("PHM_USAGE", `--queue ${text} is not a URL; give redis://HOST:PORT/N`);
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:")
    throw new PhmatchError("PHM_USAGE", `--queue ${text}: only redis:// and rediss:// URLs are supported`);
  const db = url.pathname === "" || url.pathname === "/" ? 0 : Number(url.pathname.slice(1));
  if (!Number.isInteger(db) || db < 0)
    throw new PhmatchError("PHM_USAGE", `--queue ${text}: the database must be a number (redis://HOST:PORT/N)`);
  const port = url.port === "" ? 6379 : Number(url.port);
  const address: QueueAddress = {
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port,
    db,
    tls: url.protocol === "rediss:",
    display: `${url.protocol}//${url.host}/${db}`,
  };
  if (url.username !== "") address.username = decodeURIComponent(url.username);
  if (url.password !== "") address.password = decodeURIComponent(url.password);
  return address;
}

/** A list release a scan matches with; workers must load exactly these. */
export interface ListRelease {
  listId: string;
  version: number;
  storeSha256: string;
}

/** Checks a --scan name: it goes into Redis key and queue names. */
export function checkScanName(name: string): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name))
    throw new PhmatchError("PHM_USAGE", `--scan ${name}: use 1-64 letters, digits, '.', '_' or '-'`);
  return name;
}

/** The list releases of loaded stores, in a stable order (the fingerprint workers are compared by). */
export function listReleases(sets: LoadedHashSet[]): ListRelease[] {
  return sets
    .flatMap((s) => s.set.lists.map((l) => ({ listId: l.listId, version: l.version, storeSha256: s.storeSha256 })))
    .sort((a, b) =>
      a.listId < b.listId
        ? -1
        : a.listId > b.listId
          ? 1
          : a.version - b.version || (a.storeSha256 < b.storeSha256 ? -1 : 1),
    );
}
