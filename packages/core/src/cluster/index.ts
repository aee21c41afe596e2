export {
  CLUSTER_MIN_PDQ_QUALITY,
  CLUSTER_PDQ_DISTANCE,
  CLUSTER_PHASH_DISTANCE,
  type Cluster,
  type ClusterItem,
  type Clustering,
  type ClusterOptions,
  clusterImages,
  clusterPacked,
  NO_PDQ,
  type PackedClusterInput,
} from "./cluster.js";
export { leaderClusters } from "./leader.js";
export {
  CLUSTER_BYTES_PER_IMAGE,
  CLUSTER_KNOWN_LISTED,
  ClusterCollector,
  type ClusterFinishOptions,
  type ClusterSection,
  clusterSectionSha256,
  defaultClusterSettings,
} from "./scan-clusters.js";
