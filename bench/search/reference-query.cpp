// Times Meta's PDQ reference index classes (MIH256 from pdq/cpp/index/mih.h, Flat from pdq/cpp/index/flat.h) on
// hash files that bench/search/run.mjs writes, so the reference searches exactly the data phmatch searches. Only
// calls the reference's public classes; built by run.mjs with upstream's flags (-std=c++11 -O3).
// Usage: reference-query HAYSTACK NEEDLES DISTANCE   (files of 64-hex-digit lines; NEEDLES a multiple of 8 lines)
// Prints one line per figure, "name value", for run.mjs to read.
#include <pdq/cpp/common/pdqhashtypes.h>
#include <pdq/cpp/index/flat.h>
#include <pdq/cpp/index/mih.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

using facebook::pdq::hashing::Hash256;

static std::vector<Hash256> readHashes(const char* path) {
  std::ifstream in(path);
  if (!in) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(1);
  }
  std::vector<Hash256> hashes;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) hashes.push_back(Hash256::fromStringOrDie(line));
  }
  return hashes;
}

static double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s HAYSTACK NEEDLES DISTANCE\n", argv[0]);
    return 2;
  }
  const std::vector<Hash256> haystack = readHashes(argv[1]);
  const std::vector<Hash256> needles = readHashes(argv[2]);
  const int distance = atoi(argv[3]);
  if (needles.size() % 8 != 0) {
    fprintf(stderr, "needles: %zu lines, not a multiple of 8\n", needles.size());
    return 2;
  }

  facebook::pdq::index::MIH256<size_t> mih;
  auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < haystack.size(); i++) mih.insert(haystack[i], i);
  printf("mih_build_seconds %.6f\n", secondsSince(start));

  std::vector<std::pair<Hash256, size_t>> mihMatches;
  start = std::chrono::steady_clock::now();
  for (const Hash256& needle : needles) mih.queryAll(needle, distance, mihMatches);
  printf("mih_query_seconds %.6f\n", secondsSince(start));
  printf("mih_matches %zu\n", mihMatches.size());

  // The reference's linear scan takes 8 needles per pass over the haystack (a PDQ hash's dihedral variants).
  std::vector<std::pair<size_t, size_t>> linearMatches;
  start = std::chrono::steady_clock::now();
  for (size_t q = 0; q < needles.size(); q += 8) {
    std::array<Hash256, 8> group;
    for (size_t j = 0; j < 8; j++) group[j] = needles[q + j];
    const facebook::pdq::index::Flat flat(group);
    flat.queryAll(haystack.data(), haystack.size(), distance, linearMatches);
  }
  printf("linear_query_seconds %.6f\n", secondsSince(start));
  printf("linear_matches %zu\n", linearMatches.size());
  printf("needles %zu\n", needles.size());
  return 0;
}
