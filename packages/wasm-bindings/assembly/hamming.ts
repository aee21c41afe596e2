// Exports of hamming.wasm: multi-index hashing over packed values in an imported memory. The host lays out the
// memory (values, tables, scratch) and passes pointers; nothing here allocates. Bits are numbered as the host
// reads them: bit k of a value is bit (k & 7) of its byte k >> 3, so a slice of up to 24 bits is one unaligned
// 64-bit load, a shift and a mask (the host keeps 8 readable bytes after the last value and after the last query).

/** Slice key of the value at `at`: `width` bits from bit `start`. */
@inline function sliceKey(at: usize, start: u32, width: u32): u32 {
  return <u32>((load<u64>(at + (start >> 3)) >> ((start & 7) as u64)) & ((1 << width) - 1));
}

@inline function idAt(ids: usize, p: u32, idBytes: u32): u32 {
  return idBytes == 4 ? load<u32>(ids + (<usize>p << 2)) : load<u32>(ids + <usize>p * 3) & 0xffffff;
}

/**
 * Builds one table: `ids` holds the positions of the `n` values ordered by their slice key (ascending positions
 * within a key), and the table says where each key's run starts in one of two formats. Offsets (`compact` 0):
 * `2^width + 1` u32 at `offsets`, `offsets[k]` where key k's run starts, `offsets[2^width] = n`. Compact (1,
 * width >= 5, `offsets` 32-byte aligned): per block of 32 keys a u32 base (where the block's first run starts;
 * `2^(width-5) + 1` of them at `offsets`, the last = n), then `2^width + 1` u8 at `offsets +
 * compactWithin(width)`: where key k's run starts after its block's base (0 for a block's first key), a quarter of
 * the offsets' bytes. `temp` holds `2^width + 1` u32 while a compact table is built. Ids take `idBytes` (3 or 4)
 * bytes each; with 3, one byte after the last id must be writable. Returns 0, or 1 when a compact table cannot
 * hold the keys (some block's first 31 keys hold more than 255 values): the host then lays the tables out with
 * offsets.
 */
export function buildTable(
  values: usize, n: u32, bytesPerValue: u32, start: u32, width: u32,
  offsets: usize, ids: usize, idBytes: u32, compact: u32, temp: usize,
): i32 {
  const buckets: u32 = 1 << width;
  const runs = compact != 0 ? temp : offsets;
  memory.fill(runs, 0, (<usize>buckets + 1) << 2);
  for (let i: u32 = 0; i < n; i++) {
    const at = runs + (<usize>sliceKey(values + <usize>i * bytesPerValue, start, width) << 2);
    store<u32>(at, load<u32>(at) + 1);
  }
  // Inclusive prefix sums: runs[k] = end of key k's run; placing from the last value down leaves it at the start.
  let sum: u32 = 0;
  for (let k: u32 = 0; k < buckets; k++) {
    sum += load<u32>(runs + (<usize>k << 2));
    store<u32>(runs + (<usize>k << 2), sum);
  }
  store<u32>(runs + (<usize>buckets << 2), n);
  for (let i = <i32>n - 1; i >= 0; i--) {
    const at = runs + (<usize>sliceKey(values + <usize>i * bytesPerValue, start, width) << 2);
    const p = load<u32>(at) - 1;
    store<u32>(at, p);
    if (idBytes == 4) {
      store<u32>(ids + (<usize>p << 2), <u32>i);
    } else {
      const to = ids + <usize>p * 3;
      store<u16>(to, <u16>i);
      store<u8>(to, <u8>(i >> 16), 2);
    }
  }
  if (compact == 0) return 0;
  const within = offsets + <usize>compactWithin(width);
  for (let k: u32 = 0; k <= buckets; k++) {
    const at = load<u32>(runs + (<usize>k << 2));
    if ((k & 31) == 0) store<u32>(offsets + (<usize>(k >> 5) << 2), at);
    const after = at - load<u32>(offsets + (<usize>(k >> 5) << 2));
    if (after > 255) return 1;
    store<u8>(within + <usize>k, <u8>after);
  }
  return 0;
}

// Bytes into a compact table of its u8 array (after the bases, 32-byte aligned: see runOf).
@inline function compactWithin(width: u32): u32 {
  return ((((1 << (width - 5)) + 1) << 2) + 31) & ~31;
}

// Where a key's run starts and ends, as (start, end) in one u64, from the two addresses its probe kept: its u32
// offset and 0, or (compact) its block's base and its u8. The u8 array is 32-byte aligned, so the key after it
// starts a block exactly when the u8 after it is 32-byte aligned, and then the run ends at the next block's base.
@inline function runOf(a: usize, b: usize): u64 {
  if (b == 0) return load<u64>(a);
  const s = load<u32>(a) + <u32>load<u8>(b);
  const e = load<u32>(a + (((b + 1) & 31) != 0 ? 0 : 4)) + <u32>load<u8>(b, 1);
  return (<u64>e << 32) | <u64>s;
}

// Context of one search, shared by the recursive probe (globals: the stub runtime has no closures).
let gValues: usize = 0;
let gBytesPerValue: u32 = 0;
let gQueries: usize = 0;
let gMax: u32 = 0;
let gOut: usize = 0;
let gCap: u32 = 0;
let gFound: u32 = 0;
let gOverflow = false;
let gOffsets: usize = 0;
let gWithin: usize = 0;
let gIds: usize = 0;
let gIdBytes: u32 = 4;
let gWidth: u32 = 0;
let gNeedle: u32 = 0;

// Hamming distance of value `i` to the query at `query`, whose first 32 bytes are also in q0..q3 (the 32- and
// 8-byte cases read them from registers).
@inline function distanceTo(i: u32, query: usize, q0: u64, q1: u64, q2: u64, q3: u64): u32 {
  const at = gValues + <usize>i * gBytesPerValue;
  if (gBytesPerValue == 32) {
    return <u32>(
      popcnt(load<u64>(at) ^ q0) + popcnt(load<u64>(at, 8) ^ q1) + popcnt(load<u64>(at, 16) ^ q2) +
      popcnt(load<u64>(at, 24) ^ q3)
    );
  }
  if (gBytesPerValue == 8) return <u32>popcnt(load<u64>(at) ^ q0);
  let d: u32 = 0;
  for (let w: u32 = 0; w < gBytesPerValue; w += 4) d += popcnt(load<u32>(at + w) ^ load<u32>(query + w));
  return d;
}

// A search works in three passes over bounded buffers, so that its memory reads are independent of each other
// and the processor keeps many in flight: the keys a table is probed with; the runs of positions those keys
// select (one offsets read each); the candidates of those runs, then checked in one tight loop. The keys of
// several needles share the buffers, so one request's needles keep the same reads in flight.
const KEYS_CAP: u32 = 4096;
const DESC_BYTES: usize = 24;
const KEY_BYTES: usize = 16;
const CANDIDATES_CAP: u32 = 16384;
let gKeys: usize = 0;
let gRuns: usize = 0;
let gCandidates: usize = 0;
let gKeyCount: u32 = 0;
let gCandidateCount: u32 = 0;

/** Bytes of the work area a search needs (keys, runs, candidates). */
export function workBytes(): u32 {
  return KEYS_CAP * <u32>KEY_BYTES + KEYS_CAP * 8 + CANDIDATES_CAP * 8;
}

// A load whose value is kept, so the loop that makes it cannot be optimised away: see checkCandidates.
let gTouched: u32 = 0;

function checkCandidates(): void {
  const n = gCandidateCount;
  gCandidateCount = 0;
  // Touch every candidate's value first, in a loop of a few instructions: the processor then has as many of
  // these independent misses in flight as it can hold, where the checking loop's longer body would fit fewer.
  let touched: u32 = 0;
  for (let j: u32 = 0; j < n; j++)
    touched ^= load<u8>(gValues + <usize>load<u32>(gCandidates + (<usize>j << 3)) * gBytesPerValue);
  gTouched ^= touched;
  // Candidates come in the needles' order (each needle's keys are gathered in turn), so its query words are
  // loaded into registers once per run of its candidates, not once per candidate.
  let last: u32 = 0xffffffff;
  let query: usize = 0;
  let q0: u64 = 0;
  let q1: u64 = 0;
  let q2: u64 = 0;
  let q3: u64 = 0;
  for (let j: u32 = 0; j < n; j++) {
    const i = load<u32>(gCandidates + (<usize>j << 3));
    const needle = load<u32>(gCandidates + (<usize>j << 3), 4);
    if (needle != last) {
      last = needle;
      query = gQueries + <usize>needle * gBytesPerValue;
      q0 = load<u64>(query);
      if (gBytesPerValue == 32) {
        q1 = load<u64>(query, 8);
        q2 = load<u64>(query, 16);
        q3 = load<u64>(query, 24);
      }
    }
    const d = distanceTo(i, query, q0, q1, q2, q3);
    if (d <= gMax) {
      if (gFound >= gCap) {
        gOverflow = true;
        return;
      }
      const to = gOut + <usize>gFound * 12;
      store<u32>(to, i);
      store<u32>(to, d, 4);
      store<u32>(to, needle, 8);
      gFound++;
    }
  }
}

// Pass 2 and 3 for the keys gathered so far, from every table and needle: each key is kept as the addresses of its
// run (see runOf), its table's ids and its needle, so one batch spans all tables and needles.
function flushKeys(): void {
  const n = gKeyCount;
  gKeyCount = 0;
  for (let j: u32 = 0; j < n; j++) {
    const key = gKeys + <usize>j * KEY_BYTES;
    store<u64>(gRuns + (<usize>j << 3), runOf(<usize>load<u32>(key), <usize>load<u32>(key, 4)));
  }
  // As in checkCandidates: the first id of every run, touched in a short loop.
  let touched: u32 = 0;
  for (let j: u32 = 0; j < n; j++) {
    const ids = <usize>load<u32>(gKeys + <usize>j * KEY_BYTES, 8);
    touched ^= load<u8>(ids + <usize>load<u32>(gRuns + (<usize>j << 3)) * gIdBytes);
  }
  gTouched ^= touched;
  for (let j: u32 = 0; j < n; j++) {
    const ids = <usize>load<u32>(gKeys + <usize>j * KEY_BYTES, 8);
    const needle = load<u32>(gKeys + <usize>j * KEY_BYTES, 12);
    const s = load<u32>(gRuns + (<usize>j << 3));
    const e = load<u32>(gRuns + (<usize>j << 3), 4);
    for (let p = s; p < e; p++) {
      const to = gCandidates + (<usize>gCandidateCount << 3);
      store<u32>(to, idAt(ids, p, gIdBytes));
      store<u32>(to, needle, 4);
      if (++gCandidateCount == CANDIDATES_CAP) checkCandidates();
    }
  }
  checkCandidates();
}

// Every key within `radius` flipped bits of `key`, flipping only bits >= `from` (so each key once).
function probe(key: u32, radius: u32, from: u32): void {
  const to = gKeys + <usize>gKeyCount * KEY_BYTES;
  if (gWithin == 0) {
    store<u32>(to, <u32>(gOffsets + (<usize>key << 2)));
    store<u32>(to, 0, 4);
  } else {
    store<u32>(to, <u32>(gOffsets + (<usize>(key >> 5) << 2)));
    store<u32>(to, <u32>(gWithin + <usize>key), 4);
  }
  store<u32>(to, <u32>gIds, 8);
  store<u32>(to, gNeedle, 12);
  if (++gKeyCount == KEYS_CAP) flushKeys();
  if (radius == 0) return;
  for (let b = from; b < gWidth; b++) probe(key ^ (1 << b), radius - 1, b + 1);
}

/**
 * Every value within `maxDistance` of any of the `needles` queries at `queries` (back to back), by probing
 * `tables` tables described at `desc` (six u32 each: start bit, width, radius, offsets pointer, ids pointer,
 * format: 0 offsets, 1 compact, see buildTable; a radius of 0xffffffff skips the table). Hits are (position,
 * distance, needle) u32 triples at `out`; a value can be hit from several tables and by several needles. `work` has
 * workBytes() bytes. Returns the number of hits, or -1 when there are more than `cap` (the host then answers another
 * way).
 */
export function search(
  values: usize, bytesPerValue: u32, desc: usize, tables: u32, idBytes: u32,
  queries: usize, needles: u32, maxDistance: u32, out: usize, cap: u32, work: usize,
): i32 {
  gKeys = work;
  gRuns = work + <usize>KEYS_CAP * KEY_BYTES;
  gCandidates = gRuns + KEYS_CAP * 8;
  gKeyCount = 0;
  gCandidateCount = 0;
  gValues = values;
  gBytesPerValue = bytesPerValue;
  gQueries = queries;
  gMax = maxDistance;
  gOut = out;
  gCap = cap;
  gFound = 0;
  gOverflow = false;
  gIdBytes = idBytes;
  for (let q: u32 = 0; q < needles; q++) {
    gNeedle = q;
    const query = queries + <usize>q * bytesPerValue;
    for (let t: u32 = 0; t < tables; t++) {
      const d = desc + <usize>t * DESC_BYTES;
      const radius = load<u32>(d, 8);
      if (radius == 0xffffffff) continue;
      const start = load<u32>(d);
      gWidth = load<u32>(d, 4);
      gOffsets = <usize>load<u32>(d, 12);
      gIds = <usize>load<u32>(d, 16);
      gWithin = load<u32>(d, 20) != 0 ? gOffsets + <usize>compactWithin(gWidth) : 0;
      probe(sliceKey(query, start, gWidth), radius, 0);
      if (gOverflow) return -1;
    }
  }
  flushKeys();
  if (gOverflow) return -1;
  return <i32>gFound;
}
