// TreeJsonCache: the JSON rendering of whole trees (Tree::ToJsonString), kept
// per commit digest for GET .../tree.
//
// A commit's tree never changes, so an entry never goes stale: it only ages
// out. Rendering a 10k-node tree takes milliseconds and yields megabytes;
// every editor that opens a project asks for the same head, so the second
// request onwards costs only the transfer. Bounded by entry count and by bytes
// (least recently used goes first).
//
// Ownership: entries are shared (shared_ptr<const std::string>): a response
// being written keeps its text alive after eviction.
// Thread-safety: all methods are safe from any thread. Two threads missing the
// same commit at once may both render it; the second insert wins (equal text).
#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/digest.h"
#include "core/status.h"

namespace kiln {

class TreeJsonCache {
 public:
  TreeJsonCache(size_t max_entries = 8, size_t max_bytes = 64u << 20);

  // The cached text for `commit`, or `render()`'s result, stored (unless it
  // alone is over the byte bound).
  Result<std::shared_ptr<const std::string>> Get(
      const Digest& commit, const std::function<Result<std::string>()>& render);

  size_t hits() const;
  size_t misses() const;

 private:
  using Entry = std::pair<Digest, std::shared_ptr<const std::string>>;
  void EvictLocked();

  const size_t max_entries_, max_bytes_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;                                               // most recent first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;  // by raw digest
  size_t bytes_ = 0, hits_ = 0, misses_ = 0;
};

}  // namespace kiln
