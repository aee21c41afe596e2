import { PhmatchError } from "../errors/index.js";
import { hasherSpec } from "../hashers/index.js";
import { PDQ_DIHEDRAL_VARIANTS, PDQ_MIN_QUALITY } from "../hashers/pdq.js";
import type { HashSetEntry } from "../hashset/entry.js";
import { degenerateValue } from "../hashset/hash-value.js";
import type { LoadedHashSet } from "../hashset/load.js";
import type { Override } from "../hashset/overrides.js";
import type { VpdqFrame } from "../hashset/vpdq-text.js";
import { buildIndex, chooseIndexKind, type HammingIndex, type IndexKind, MihIndex } from "../index/index.js";
import { PackedValues } from "../index/packed-values.js";
import type { HashRecord, VideoHash } from "../record/hash-record.js";
import { hammingDistance } from "../record/hex.js";
import type { AppliedOverride, MatchHit, MatchResult } from "./match-result.js";
import { defaultPolicy, type MatchPolicy, makePolicy, POLICY_VERSION } from "./policy.js";
import {
  defaultVideoPolicy,
  type FramePair,
  keptVideoFrames,
  makeVideoPolicy,
  type VideoMatch,
  type VideoMatchPolicy,
  videoMatchFromPairs,
} from "./video-match.js";

/** Options of a matcher. */
export interface MatcherOptions {
  /** Per-algorithm changes to the default policies: maximum distance, minimum quality. */
  policies?: Record<string, { maxDistance?: number; minQuality?: number }>;
  /** Force one index kind for every perceptual algorithm (default: chosen per algorithm, see chooseIndexKind). */
  index?: IndexKind;
  /**
   * Opt-in combined policy: an entry also matches when its PDQ is within `pdq` bits of the query's (any dihedral
   * variant, no quality gate) and its 256-bit pHash within `phash16` bits of the query's, both at once: two
   * independent hashes agreeing within looser thresholds (policy id `pdq+phash16:d64+d64@1` for 64 and 64).
   */
  combined?: { pdq: number; phash16: number };
  /**
   * Changes to the video policy (default `vpdq:d31:q50:t80:s0@1`): the frame distance, the frame quality floor (50
   * or more: stores keep a listed video's frames of quality >= 50), and the shares of the listed video's and the
   * query's kept frames that must match (percent).
   */
  video?: { maxDistance?: number; minQuality?: number; minTargetPercent?: number; minQueryPercent?: number };
}

interface IndexedSection {
  loaded: LoadedHashSet;
  algorithm: string;
  index: HammingIndex;
  kind: IndexKind;
}

/**
 * Matches hash records against loaded lists. Indexes are built once per list and algorithm; each record is then
 * answered with every entry of every list it matches, the policy that decided, PDQ's dihedral variant, and any
 * local override. Withdrawn entries (tombstones in the store) never match.
 */
export class Matcher {
  readonly policies = new Map<string, MatchPolicy>();
  /** How a query video is decided against a listed video (frames looked up in the lists' PDQ indexes). */
  readonly videoPolicy: VideoMatchPolicy;
  readonly #sections: IndexedSection[] = [];
  readonly #loaded: readonly LoadedHashSet[];
  readonly #withdrawnValues = new Map<string, PackedValues>();
  readonly #withdrawnIds = new Set<string>();
  readonly #overrides = new Map<string, { override: Override; loaded: LoadedHashSet }[]>();

  readonly #combined: { pdq: number; phash16: number; id: string } | undefined;
  /** Algorithms some loaded list holds (a record's other hashes are not looked up). */
  readonly #listed = new Set<string>();
  #phash16ByEntry: Map<string, Uint8Array[]> | undefined;
  /** Per pdq section, with a quality floor above the stores' 50: each listed video's frames at or above it. */
  #videoFrames = new Map<IndexedSection, Map<string, number>>();

  constructor(sets: LoadedHashSet[], options: MatcherOptions = {}) {
    this.videoPolicy = videoPolicyOf(options.video);
    if (options.combined !== undefined) {
      const { pdq, phash16 } = options.combined;
      if (
        !Number.isInteger(pdq) ||
        pdq < 0 ||
        pdq > 256 ||
        !Number.isInteger(phash16) ||
        phash16 < 0 ||
        phash16 > 256
      ) {
        throw new PhmatchError(
          "PHM_USAGE",
          `the combined policy takes distances 0..256, got pdq ${pdq}, phash16 ${phash16}`,
        );
      }
      this.#combined = { pdq, phash16, id: `pdq+phash16:d${pdq}+d${phash16}@${POLICY_VERSION}` };
    }
    this.#loaded = sets;
    for (const loaded of sets) {
      for (const algorithm of loaded.set.algorithms) {
        const spec = hasherSpec(algorithm);
        if (spec === undefined || spec.input === "imported") continue; // PhotoDNA: carried, never matched
        const policy = this.#policy(algorithm, options);
        const packed = loaded.set.packed(algorithm);
        const kind =
          spec.input === "bytes" ? "exact" : (options.index ?? chooseIndexKind(packed, policy.maxDistance, true));
        const index = buildIndex(kind, packed, policy.maxDistance);
        // the values once in memory, not twice
        if (index instanceof MihIndex) loaded.set.adoptValues(algorithm, index.values);
        this.#sections.push({ loaded, algorithm, index, kind });
        this.#listed.add(algorithm);
      }
      for (const w of loaded.set.withdrawals()) {
        if (w.entryId !== undefined && w.value === undefined) this.#withdrawnIds.add(`${w.listId}\0${w.entryId}`);
        if (w.algorithm !== undefined && w.value !== undefined) {
          const key = `${w.listId}\0${w.algorithm}`;
          let values = this.#withdrawnValues.get(key);
          if (values === undefined) this.#withdrawnValues.set(key, (values = new PackedValues(w.value.length)));
          values.add(w.value);
        }
      }
      for (const override of loaded.overrides) {
        const key = `${override.algorithm}\0${override.hash.toLowerCase()}`;
        this.#overrides.set(key, [...(this.#overrides.get(key) ?? []), { override, loaded }]);
      }
    }
  }

  /**
   * The algorithms among `algorithms` (those computed for a query) that some loaded list holds an entry of that
   * can match: an entry of an algorithm phmatch computes, not withdrawn. Empty means nothing could ever be known.
   */
  matchable(algorithms: readonly string[]): string[] {
    const anyWithdrawal = this.#withdrawnIds.size > 0 || this.#withdrawnValues.size > 0;
    return algorithms.filter((algorithm) =>
      this.#sections.some((section) => {
        if (section.algorithm !== algorithm) return false;
        const count = section.loaded.set.packed(algorithm).count;
        if (!anyWithdrawal) return count > 0;
        // Stops at the first entry still listed: a linear pass only over a list that is (nearly) all withdrawn.
        for (let i = 0; i < count; i++) {
          const entry = section.loaded.set.entry(algorithm, i);
          if (!this.#withdrawn(entry.listId, algorithm, entry.value, entry.entryId)) return true;
        }
        return false;
      }),
    );
  }

  /**
   * Refuses lists that hold no entry that could match any of `algorithms` (PHM_HASHSET_EMPTY): a scan or a gate
   * over them would answer "not known" for everything, which reads like a clean result.
   */
  requireMatchable(algorithms: readonly string[]): void {
    if (this.matchable(algorithms).length > 0) return;
    const held: string[] = [];
    const withdrawn = new Set<string>();
    for (const loaded of this.#loaded) {
      for (const algorithm of loaded.set.algorithms) {
        const count = loaded.set.packed(algorithm).count;
        held.push(
          `${algorithm} ${count}${hasherSpec(algorithm)?.input === "imported" ? " (carried, never matched)" : ""}`,
        );
        if (count > 0 && algorithms.includes(algorithm)) withdrawn.add(algorithm);
      }
    }
    const why =
      withdrawn.size > 0
        ? `every ${[...withdrawn].join(" and ")} entry they hold is withdrawn`
        : `they hold ${held.length === 0 ? "no entries at all" : held.join(", ")}`;
    throw new PhmatchError(
      "PHM_HASHSET_EMPTY",
      `the lists ${this.#loaded.map((l) => l.path).join(", ")} hold no entry ` +
        `that could match the algorithms computed ` +
        `(${algorithms.length > 0 ? algorithms.join(", ") : "none: they hold no algorithm phmatch computes"}): ` +
        `${why}. Nothing could ever be known, so they are refused; ` +
        `use lists with entries of these algorithms (hashset info shows what a list holds), ` +
        `or compute the algorithms they hold`,
    );
  }

  /** Index kind used per list and algorithm (for reports and the benchmark). */
  get indexes(): { list: string; algorithm: string; kind: IndexKind; size: number }[] {
    return this.#sections.map((s) => ({
      list: s.loaded.path,
      algorithm: s.algorithm,
      kind: s.kind,
      size: s.index.size,
    }));
  }

  #policy(algorithm: string, options: MatcherOptions): MatchPolicy {
    let policy = this.policies.get(algorithm);
    if (policy !== undefined) return policy;
    const base = defaultPolicy(algorithm);
    const change = options.policies?.[algorithm];
    policy =
      change === undefined
        ? base
        : makePolicy(algorithm, change.maxDistance ?? base.maxDistance, change.minQuality ?? base.minQuality);
    this.policies.set(algorithm, policy);
    return policy;
  }

  /**
   * The result for one hash record (the shape `phmatch hash` prints). A record with `trimmed` hashes (the content
   * inside uniform borders) is matched with those too; a hit found only through them says `query: "trimmed"`.
   */
  match(record: HashRecord): MatchResult {
    const result: MatchResult = { path: record.path, status: "unseen", matches: [], checked: [] };
    const notes: string[] = [];
    const main = this.#matchHashes(record, undefined, notes, result.checked);
    result.matches.push(...main.hits);
    let weak = main.weak;
    const seen = new Set(main.hits.map((h) => `${h.list}\0${h.algorithm}\0${h.entryId ?? ""}`));
    const extra = (hits: MatchHit[]) => {
      for (const hit of hits) {
        const key = `${hit.list}\0${hit.algorithm}\0${hit.entryId ?? ""}`;
        if (!seen.has(key)) {
          seen.add(key);
          result.matches.push(hit);
        }
      }
    };
    if (record.trimmed !== undefined) {
      const inner = this.#matchHashes(record.trimmed, "trimmed", notes, []);
      extra(inner.hits);
      weak &&= inner.weak;
    }
    // Rotation hypotheses and parts: extra queries whose quality notes would only repeat the image's own.
    for (const turned of record.rotated ?? [])
      extra(this.#matchHashes(turned, "rotated", [], []).hits.map((h) => ({ ...h, rotation: turned.degrees })));
    for (const part of record.parts ?? [])
      extra(this.#matchHashes(part, "part", [], []).hits.map((h) => ({ ...h, part: part.window })));
    if (record.video !== undefined) {
      const video = this.#matchVideo(record.video, notes, result.checked);
      extra(video.hits);
      weak ||= video.weak;
    }
    if (this.#combined !== undefined) {
      const seen = new Set(result.matches.map((h) => `${h.list}\0${h.entryId ?? ""}`));
      for (const hit of this.#matchCombined(record))
        if (!seen.has(`${hit.list}\0${hit.entryId ?? ""}`)) result.matches.push(hit);
    }
    if (notes.length > 0) result.notes = notes;
    if (record.error !== undefined) result.error = record.error;
    const decisive = result.matches.some((m) => m.override === undefined);
    result.status = decisive ? "known" : record.error !== undefined ? "error" : weak ? "low_quality" : "unseen";
    return result;
  }

  // Looks up every listed algorithm of one set of hashes (the record's, or its trimmed content's).
  #matchHashes(
    source: { hashes?: Record<string, string>; quality?: Record<string, number>; dihedral?: Record<string, string[]> },
    query: MatchHit["query"],
    notes: string[],
    checked: string[],
  ): { hits: MatchHit[]; weak: boolean } {
    const hits: MatchHit[] = [];
    let weak = false;
    const listed = this.#listed;
    const prefix = query === undefined ? "" : `${query} `;
    for (const [algorithm, hex] of Object.entries(source.hashes ?? {})) {
      if (!listed.has(algorithm)) continue; // not looked up: `checked` lists what was
      // A value unrelated inputs share (an empty file's digest, a flat image's hash) is never looked up, so even a
      // list made before build and import refused such values cannot call every empty or flat file known.
      const degenerate = degenerateValue(algorithm, fromHex(hex));
      if (degenerate !== undefined) {
        if (hasherSpec(algorithm)?.input === "pixels") weak = true;
        notes.push(`${prefix}${algorithm}: not looked up: ${degenerate}`);
        continue;
      }
      const policy = this.policies.get(algorithm) as MatchPolicy;
      const quality = source.quality?.[algorithm];
      if (policy.minQuality !== undefined && quality !== undefined && quality < policy.minQuality) {
        weak = true;
        notes.push(
          `${prefix}${algorithm}: quality ${quality} is below ${policy.minQuality}; ` +
            `too featureless to decide (${policy.id})`,
        );
        continue;
      }
      const queries: { variant?: string; value: Uint8Array }[] = [];
      // PDQ and pHash carry their 8 dihedral variants when hashed with them: each is a query.
      const variants = source.dihedral?.[algorithm];
      if (variants !== undefined) {
        for (const [i, v] of variants.entries())
          queries.push({ variant: PDQ_DIHEDRAL_VARIANTS[i] as string, value: fromHex(v) });
      } else {
        queries.push(algorithm === "pdq" ? { variant: "original", value: fromHex(hex) } : { value: fromHex(hex) });
        if (algorithm === "pdq" && query === undefined)
          notes.push(
            "pdq: no dihedral variants in the record; " +
              "rotated and mirrored copies were not checked (hash with `dihedral`)",
          );
      }
      checked.push(algorithm);
      for (const hit of this.#lookup(algorithm, policy, queries))
        hits.push(query === undefined ? hit : { ...hit, query });
    }
    return { hits, weak };
  }

  #lookup(algorithm: string, policy: MatchPolicy, queries: { variant?: string; value: Uint8Array }[]): MatchHit[] {
    const hits: MatchHit[] = [];
    const values = queries.map((q) => q.value);
    for (const section of this.#sections) {
      if (section.algorithm !== algorithm) continue;
      // The closest variant per entry: all the needles in one index pass.
      const found = section.index.searchMany(values, policy.maxDistance);
      found.sort((a, b) => a.distance - b.distance || a.index - b.index);
      for (const { index, distance, needle } of found) {
        const variant = queries[needle]?.variant;
        const entry = section.loaded.set.entry(algorithm, index);
        if (this.#withdrawn(entry.listId, algorithm, entry.value, entry.entryId)) continue;
        const list = section.loaded.set.lists.find((l) => l.listId === entry.listId);
        const hit: MatchHit = {
          list: entry.listId,
          listVersion: list?.version ?? 1,
          algorithm,
          distance,
          policy: policy.id,
        };
        if (entry.entryId !== undefined) hit.entryId = entry.entryId;
        if (entry.category !== undefined) hit.category = entry.category;
        if (variant !== undefined) hit.variant = variant;
        if (entry.fields?.window !== undefined) hit.window = entry.fields.window;
        // A frame of a listed video: where in that video the still image was seen.
        if (entry.fields?.video !== undefined) {
          hit.timestamp = entry.fields.video.timestamp;
          hit.frame = entry.fields.video.frame;
        }
        const override = this.#override(section.loaded, algorithm, entry.value, entry.listId);
        if (override !== undefined) hit.override = override;
        hits.push(hit);
      }
    }
    return closestPerEntry(hits);
  }

  /**
   * A query video's kept frames against every loaded PDQ index, one searchMany per index. Entries that are frames of
   * a listed video are grouped per video and decided by the video policy; a listed still image within the PDQ
   * policy of a kept frame is a pdq hit at the first frame that shows it. An override applies per frame entry, as
   * to image hits: a video hit is overridden when it reaches the policy only with its overridden frames.
   */
  #matchVideo(video: VideoHash, notes: string[], checked: string[]): { hits: MatchHit[]; weak: boolean } {
    const pdq = this.policies.get("pdq");
    if (pdq === undefined) return { hits: [], weak: false }; // no list holds PDQ: nothing to look frames up in
    const policy = this.videoPolicy;
    const frames: VpdqFrame[] = video.frames.map((f) => ({
      frame: f.frame,
      timestamp: f.timestamp,
      hash: { algorithm: "pdq", bytes: fromHex(f.pdq), quality: f.quality },
    }));
    const q = keptVideoFrames(frames, policy.minQuality, "query video");
    if (q.length === 0) {
      notes.push(
        `vpdq: none of the video's ${frames.length} hashed frames has quality >= ${policy.minQuality} ` +
          `(after dropping repeated frames); too featureless to decide (${policy.id})`,
      );
      return { hits: [], weak: true };
    }
    checked.push("vpdq");
    const radius = Math.max(policy.maxDistance, pdq.maxDistance);
    const needles = q.map((f) => f.hash.bytes);
    const hits: MatchHit[] = [];
    const videos = new Map<string, ListedVideoPairs>();
    for (const [n, section] of this.#sections.entries()) {
      if (section.algorithm !== "pdq") continue;
      for (const found of section.index.searchMany(needles, radius)) {
        const entry = section.loaded.set.entry("pdq", found.index);
        if (this.#withdrawn(entry.listId, "pdq", entry.value, entry.entryId)) continue;
        const listed = entry.fields?.video;
        if (listed === undefined || entry.entryId === undefined) {
          // A listed still image: the first kept frame (in time) within the image policy shows it.
          if (found.distance > pdq.maxDistance) continue;
          const frame = q.find(
            (f) =>
              f.hash.quality >= (pdq.minQuality ?? 0) && hammingDistance(f.hash.bytes, entry.value) <= pdq.maxDistance,
          );
          if (frame === undefined) continue;
          const hit = this.#hit(section, entry, "pdq", hammingDistance(frame.hash.bytes, entry.value), pdq.id);
          if (entry.fields?.window !== undefined) hit.window = entry.fields.window;
          hit.timestamp = frame.timestamp;
          hit.frame = frame.frame;
          const override = this.#override(section.loaded, "pdq", entry.value, entry.listId);
          if (override !== undefined) hit.override = override;
          hits.push(hit);
          continue;
        }
        if (found.distance > policy.maxDistance || listed.quality < policy.minQuality) continue;
        const key = `${n}\0${entry.listId}\0${entry.entryId}`;
        let group = videos.get(key);
        if (group === undefined) {
          const frames = this.#listedFrames(section, entry.listId, entry.entryId, listed.frames);
          group = { section, entry, frames, pairs: [], timestamps: new Map(), distance: found.distance };
          videos.set(key, group);
        }
        // searchMany gives each listed frame once, at its closest query frame: every close pair is found here.
        const override = this.#override(section.loaded, "pdq", entry.value, entry.listId);
        if (override !== undefined) group.override ??= override;
        group.timestamps.set(found.index, listed.timestamp);
        group.distance = Math.min(group.distance, found.distance);
        for (let i = 0; i < q.length; i++) {
          if (hammingDistance((q[i] as VpdqFrame).hash.bytes, entry.value) > policy.maxDistance) continue;
          group.pairs.push({ query: i, target: found.index, overridden: override !== undefined });
        }
      }
    }
    let best: { group: ListedVideoPairs; match: VideoMatch } | undefined;
    for (const group of videos.values()) {
      const side = { frames: group.frames, timestamps: group.timestamps };
      const match = videoMatchFromPairs(q, side, group.pairs, policy);
      if (!match.match) {
        if (best === undefined || match.targetPercent > best.match.targetPercent) best = { group, match };
        continue;
      }
      const hit = this.#hit(group.section, group.entry, "vpdq", group.distance, policy.id);
      const { queryPercent, targetPercent, queryFramesUsed, targetFramesUsed, segments } = match;
      hit.video = { queryPercent, targetPercent, queryFramesUsed, targetFramesUsed, segments };
      if (group.override !== undefined) {
        const standing = group.pairs.filter((p) => !p.overridden);
        if (!videoMatchFromPairs(q, side, standing, policy).match) hit.override = group.override;
      }
      hits.push(hit);
    }
    if (best !== undefined && !hits.some((h) => h.algorithm === "vpdq")) {
      const { match, group } = best;
      notes.push(
        `vpdq: best listed video ${group.entry.listId}/${group.entry.entryId} matched ` +
          `${match.targetPercent.toFixed(1)}% of its frames ` +
          `(the query ${match.queryPercent.toFixed(1)}% of its own), ` +
          `below ${policy.minTargetPercent}%${policy.minQueryPercent > 0 ? ` and ${policy.minQueryPercent}%` : ""} ` +
          `(${policy.id})`,
      );
    }
    return { hits: closestPerEntry(hits), weak: false };
  }

  // A hit on one entry, before its override: list, version, entry id and category as the store says.
  #hit(section: IndexedSection, entry: HashSetEntry, algorithm: string, distance: number, policy: string): MatchHit {
    const list = section.loaded.set.lists.find((l) => l.listId === entry.listId);
    const hit: MatchHit = { list: entry.listId, listVersion: list?.version ?? 1, algorithm, distance, policy };
    if (entry.entryId !== undefined) hit.entryId = entry.entryId;
    if (entry.category !== undefined) hit.category = entry.category;
    return hit;
  }

  // A listed video's kept frames under the video policy: as its entries say (the stores keep quality >= 50), or,
  // with a higher floor, counted once over the section's frames.
  #listedFrames(section: IndexedSection, listId: string, entryId: string, stored: number): number {
    if (this.videoPolicy.minQuality === PDQ_MIN_QUALITY) return stored;
    let counts = this.#videoFrames.get(section);
    if (counts === undefined) {
      counts = new Map();
      for (let i = 0; i < section.index.size; i++) {
        const entry = section.loaded.set.entry("pdq", i);
        const video = entry.fields?.video;
        if (video === undefined || entry.entryId === undefined || video.quality < this.videoPolicy.minQuality) continue;
        const key = `${entry.listId}\0${entry.entryId}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      this.#videoFrames.set(section, counts);
    }
    return counts.get(`${listId}\0${entryId}`) ?? 0;
  }

  // The combined policy: PDQ candidates within the looser radius whose entry's 256-bit pHash also agrees.
  #matchCombined(record: HashRecord): MatchHit[] {
    const combined = this.#combined as { pdq: number; phash16: number; id: string };
    const pdqQueries = (record.dihedral?.pdq ?? (record.hashes?.pdq !== undefined ? [record.hashes.pdq] : [])).map(
      fromHex,
    );
    const phQueries = (
      record.dihedral?.phash16 ?? (record.hashes?.phash16 !== undefined ? [record.hashes.phash16] : [])
    ).map(fromHex);
    if (pdqQueries.length === 0 || phQueries.length === 0) return [];
    const byEntry = this.#phash16Entries();
    const hits: MatchHit[] = [];
    for (const section of this.#sections) {
      if (section.algorithm !== "pdq") continue;
      for (const { index, distance, needle: variant } of section.index.searchMany(pdqQueries, combined.pdq)) {
        const entry = section.loaded.set.entry("pdq", index);
        if (entry.entryId === undefined || this.#withdrawn(entry.listId, "pdq", entry.value, entry.entryId)) continue;
        const values = byEntry.get(`${section.loaded.path}\0${entry.listId}\0${entry.entryId}`) ?? [];
        const agrees = values.some((value) => phQueries.some((q) => hammingDistance(q, value) <= combined.phash16));
        if (!agrees) continue;
        const list = section.loaded.set.lists.find((l) => l.listId === entry.listId);
        const hit: MatchHit = {
          list: entry.listId,
          listVersion: list?.version ?? 1,
          algorithm: "pdq",
          distance,
          policy: combined.id,
          entryId: entry.entryId,
        };
        if (entry.category !== undefined) hit.category = entry.category;
        if (pdqQueries.length === 8) hit.variant = PDQ_DIHEDRAL_VARIANTS[variant] as string;
        if (entry.fields?.window !== undefined) hit.window = entry.fields.window;
        const override = this.#override(section.loaded, "pdq", entry.value, entry.listId);
        if (override !== undefined) hit.override = override;
        hits.push(hit);
      }
    }
    return closestPerEntry(hits);
  }

  // The 256-bit pHash values of every entry, by list file, list and entry id (built once, on first use).
  #phash16Entries(): Map<string, Uint8Array[]> {
    if (this.#phash16ByEntry !== undefined) return this.#phash16ByEntry;
    const map = new Map<string, Uint8Array[]>();
    for (const section of this.#sections) {
      if (section.algorithm !== "phash16") continue;
      for (let i = 0; i < section.index.size; i++) {
        const entry = section.loaded.set.entry("phash16", i);
        if (entry.entryId === undefined) continue;
        const key = `${section.loaded.path}\0${entry.listId}\0${entry.entryId}`;
        map.set(key, [...(map.get(key) ?? []), entry.value]);
      }
    }
    this.#phash16ByEntry = map;
    return map;
  }

  #withdrawn(listId: string, algorithm: string, value: Uint8Array, entryId: string | undefined): boolean {
    if (entryId !== undefined && this.#withdrawnIds.has(`${listId}\0${entryId}`)) return true;
    return (this.#withdrawnValues.get(`${listId}\0${algorithm}`)?.indexOf(value) ?? -1) >= 0;
  }

  #override(loaded: LoadedHashSet, algorithm: string, value: Uint8Array, listId: string): AppliedOverride | undefined {
    const candidates = this.#overrides.get(`${algorithm}\0${Buffer.from(value).toString("hex")}`) ?? [];
    const found = candidates.find(
      (c) => c.loaded === loaded && (c.override.listId === undefined || c.override.listId === listId),
    );
    if (found === undefined) return undefined;
    const { action, who, when, why } = found.override;
    const provenance = found.loaded.overridesProvenance;
    return {
      action,
      who,
      when,
      why,
      ...(provenance?.release !== undefined && { release: provenance.release }),
      ...(provenance?.signedBy !== undefined && { signedBy: provenance.signedBy }),
    };
  }
}

// An entry listed with augmentation has several hashes (the whole image and sub-windows): report it once per
// algorithm, at its closest (the whole image on a tie). Entries without an id are reported as they are.
function closestPerEntry(hits: MatchHit[]): MatchHit[] {
  const best = new Map<string, MatchHit>();
  const out: MatchHit[] = [];
  for (const hit of hits) {
    if (hit.entryId === undefined) {
      out.push(hit);
      continue;
    }
    const key = `${hit.list}\0${hit.entryId}`;
    const seen = best.get(key);
    if (
      seen === undefined ||
      hit.distance < seen.distance ||
      (hit.distance === seen.distance && seen.window !== undefined && hit.window === undefined)
    )
      best.set(key, hit);
  }
  return [...out, ...best.values()].sort((a, b) => a.distance - b.distance);
}

/** The close frame pairs found for one listed video (one store, list and entry id). */
interface ListedVideoPairs {
  section: IndexedSection;
  /** One of its frame entries (list, entry id and category are the video's). */
  entry: HashSetEntry;
  /** Its kept frames under the video policy. */
  frames: number;
  pairs: (FramePair & { overridden: boolean })[];
  timestamps: Map<number, number>;
  /** The closest frame pair's distance. */
  distance: number;
  /** The first override found on one of its matched frames. */
  override?: AppliedOverride;
}

// The video policy with the matcher's changes; stores hold no listed frame below quality 50, so no lower floor.
function videoPolicyOf(change: MatcherOptions["video"]): VideoMatchPolicy {
  const base = defaultVideoPolicy();
  if (change === undefined) return base;
  const minQuality = change.minQuality ?? base.minQuality;
  if (minQuality < PDQ_MIN_QUALITY) {
    throw new PhmatchError(
      "PHM_USAGE",
      `the video quality floor must be ${PDQ_MIN_QUALITY} or more (stores keep listed frames of quality >= ` +
        `${PDQ_MIN_QUALITY}, so a lower floor would change only one side), got ${minQuality}`,
    );
  }
  return makeVideoPolicy(
    change.maxDistance ?? base.maxDistance,
    minQuality,
    change.minTargetPercent ?? base.minTargetPercent,
    change.minQueryPercent ?? base.minQueryPercent,
  );
}

function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, "hex"));
}
