#include "server/tree_json_cache.h"

namespace kiln {

TreeJsonCache::TreeJsonCache(size_t max_entries, size_t max_bytes)
    : max_entries_(max_entries), max_bytes_(max_bytes) {}

Result<std::shared_ptr<const std::string>> TreeJsonCache::Get(
    const Digest& commit, const std::function<Result<std::string>()>& render) {
  std::string key(commit.Raw());
  {
    std::lock_guard lock(mu_);
    if (auto it = index_.find(key); it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      ++hits_;
      return it->second->second;
    }
    ++misses_;
  }
  // Rendered outside the lock: other commits' hits must not wait for it.
  KILN_ASSIGN_OR_RETURN(std::string text, render());
  auto shared = std::make_shared<const std::string>(std::move(text));
  if (max_entries_ == 0 || shared->size() > max_bytes_) return shared;
  std::lock_guard lock(mu_);
  if (auto it = index_.find(key); it != index_.end()) {
    bytes_ -= it->second->second->size();
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.emplace_front(commit, shared);
  index_[key] = lru_.begin();
  bytes_ += shared->size();
  EvictLocked();
  return shared;
}

void TreeJsonCache::EvictLocked() {
  while (!lru_.empty() && (lru_.size() > max_entries_ || bytes_ > max_bytes_)) {
    bytes_ -= lru_.back().second->size();
    index_.erase(std::string(lru_.back().first.Raw()));
    lru_.pop_back();
  }
}

size_t TreeJsonCache::hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

size_t TreeJsonCache::misses() const {
  std::lock_guard lock(mu_);
  return misses_;
}

}  // namespace kiln
