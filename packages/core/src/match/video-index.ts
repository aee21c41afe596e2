import type { PdqHash } from "../hashers/pdq.js";
import type { VpdqFrame } from "../hashset/vpdq-text.js";
import { buildIndex, chooseIndexKind, type HammingIndex, type IndexKind } from "../index/index.js";
import { hammingDistance } from "../record/hex.js";
import { makePolicy } from "./policy.js";
import {
  checkPdqBytes,
  defaultVideoPolicy,
  type FramePair,
  keptVideoFrames,
  listedSide,
  type VideoMatch,
  type VideoMatchPolicy,
  videoMatchFromPairs,
} from "./video-match.js";

/** A listed video: its id in the list and its vPDQ frames. */
export interface ListedVideo {
  id: string;
  frames: readonly VpdqFrame[];
}

/** A listed still image: its id in the list and its PDQ hash. */
export interface ListedImage {
  id: string;
  hash: PdqHash;
}

/** A listed video matched by a query video, with its list id. */
export interface VideoEntryMatch extends VideoMatch {
  id: string;
}

/** A frame of one side within the PDQ distance of a still image on the other side. */
export interface FrameHit {
  /** The listed video's id (for {@link VideoIndex.matchImage}) or the listed image's id (in a video's result). */
  id: string;
  /** The frame pair's rule, e.g. `pdq:d31:q50@1`. */
  policy: string;
  frame: number;
  /** Seconds into the video. */
  timestamp: number;
  distance: number;
}

/** What a query video matched: listed videos (decided by the video policy) and listed images seen in it. */
export interface VideoQueryResult {
  /** Listed videos with at least one matched frame, the best listed share first; `match` says the verdict. */
  videos: VideoEntryMatch[];
  /** Listed images within the distance of a kept query frame, each at the first such frame. */
  images: FrameHit[];
}

/**
 * Listed videos' frames and listed images in one Hamming index (MIH for large lists), so that a query video is
 * looked up with one `searchMany` over its frames rather than a scan of every listed frame. Listed videos keep
 * the frames the policy keeps (duplicates and low quality dropped, as the reference does).
 * @example
 * const index = new VideoIndex({ videos: [{ id: "v1", frames }], images: [{ id: "i1", hash }] });
 * index.matchVideo(queryFrames).videos[0]?.targetPercent; index.matchImage(stillHash)[0]?.timestamp;
 */
export class VideoIndex {
  readonly policy: VideoMatchPolicy;
  /** The per-frame rule (PDQ distance and quality) reported on frame hits. */
  readonly framePolicy: string;
  readonly index: HammingIndex;
  #videos: { id: string; kept: VpdqFrame[] }[] = [];
  #images: ListedImage[] = [];
  // Per indexed value: entry number (videos first, then images) and position in that video's kept frames.
  #entry: Int32Array;
  #position: Int32Array;

  constructor(
    entries: { videos?: readonly ListedVideo[]; images?: readonly ListedImage[] },
    options: { policy?: VideoMatchPolicy; kind?: IndexKind } = {},
  ) {
    this.policy = options.policy ?? defaultVideoPolicy();
    this.framePolicy = makePolicy("pdq", this.policy.maxDistance, this.policy.minQuality).id;
    for (const video of entries.videos ?? []) {
      const kept = keptVideoFrames(video.frames, this.policy.minQuality, `listed video ${video.id}`);
      this.#videos.push({ id: video.id, kept });
    }
    this.#images = [...(entries.images ?? [])];
    for (const image of this.#images) checkPdqBytes(image.hash.bytes, `listed image ${image.id}`);
    const count = this.#videos.reduce((n, v) => n + v.kept.length, 0) + this.#images.length;
    const values = new Uint8Array(count * 32);
    this.#entry = new Int32Array(count);
    this.#position = new Int32Array(count);
    let at = 0;
    this.#videos.forEach((video, e) => {
      video.kept.forEach((frame, p) => {
        values.set(frame.hash.bytes, at * 32);
        this.#entry[at] = e;
        this.#position[at++] = p;
      });
    });
    this.#images.forEach((image, i) => {
      values.set(image.hash.bytes, at * 32);
      this.#entry[at++] = this.#videos.length + i;
    });
    const packed = { bytesPerValue: 32, count, values };
    const kind = options.kind ?? chooseIndexKind(packed, this.policy.maxDistance, true);
    this.index = buildIndex(kind, packed, this.policy.maxDistance);
  }

  /** A query video against every listed video and image, in one index pass over its kept frames. */
  matchVideo(frames: readonly VpdqFrame[]): VideoQueryResult {
    const q = keptVideoFrames(frames, this.policy.minQuality, "query video");
    if (q.length === 0 || this.index.size === 0) return { videos: [], images: [] };
    const hits = this.index.searchMany(
      q.map((f) => f.hash.bytes),
      this.policy.maxDistance,
    );
    // Every value near some query frame is a hit, so every close (query, listed) pair has its listed value here:
    // pairing the hits with the query frames is exact.
    const pairs = new Map<number, FramePair[]>();
    const images: FrameHit[] = [];
    for (const hit of hits) {
      const entry = this.#entry[hit.index] as number;
      const value = this.#valueOf(entry, hit.index);
      if (entry >= this.#videos.length) {
        for (let i = 0; i < q.length; i++) {
          const distance = hammingDistance((q[i] as VpdqFrame).hash.bytes, value);
          if (distance > this.policy.maxDistance) continue;
          const frame = q[i] as VpdqFrame;
          const id = (this.#images[entry - this.#videos.length] as ListedImage).id;
          images.push({ id, policy: this.framePolicy, frame: frame.frame, timestamp: frame.timestamp, distance });
          break;
        }
        continue;
      }
      const list = pairs.get(entry) ?? [];
      for (let i = 0; i < q.length; i++) {
        if (hammingDistance((q[i] as VpdqFrame).hash.bytes, value) <= this.policy.maxDistance) {
          list.push({ query: i, target: this.#position[hit.index] as number });
        }
      }
      pairs.set(entry, list);
    }
    const videos: VideoEntryMatch[] = [];
    for (const [entry, list] of pairs) {
      const video = this.#videos[entry] as { id: string; kept: VpdqFrame[] };
      videos.push({ id: video.id, ...videoMatchFromPairs(q, listedSide(video.kept, list), list, this.policy) });
    }
    videos.sort((a, b) => b.targetPercent - a.targetPercent || b.queryPercent - a.queryPercent);
    return { videos, images };
  }

  /**
   * A still image against the listed videos' frames: every listed frame within the distance, with its video and
   * timestamp (none when the image's quality is below the gate).
   */
  matchImage(hash: PdqHash): FrameHit[] {
    checkPdqBytes(hash.bytes, "still image");
    if (hash.quality < this.policy.minQuality) return [];
    const out: FrameHit[] = [];
    for (const hit of this.index.search(hash.bytes, this.policy.maxDistance)) {
      const entry = this.#entry[hit.index] as number;
      if (entry >= this.#videos.length) continue;
      const video = this.#videos[entry] as { id: string; kept: VpdqFrame[] };
      const frame = video.kept[this.#position[hit.index] as number] as VpdqFrame;
      const { frame: n, timestamp } = frame;
      out.push({ id: video.id, policy: this.framePolicy, frame: n, timestamp, distance: hit.distance });
    }
    return out;
  }

  #valueOf(entry: number, at: number): Uint8Array {
    if (entry >= this.#videos.length) return (this.#images[entry - this.#videos.length] as ListedImage).hash.bytes;
    const video = this.#videos[entry] as { kept: VpdqFrame[] };
    return (video.kept[this.#position[at] as number] as VpdqFrame).hash.bytes;
  }
}
