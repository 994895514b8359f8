#include "storage/storage_set.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "storage/artifact_copy.h"

namespace kiln {

namespace fs = std::filesystem;

Result<std::unique_ptr<StorageSet>> StorageSet::Create(std::vector<StorageBackend> backends,
                                                       fs::path scratch_dir) {
  if (backends.empty()) return InvalidArgument("storage: no backend");
  std::set<std::string> names;
  for (const StorageBackend& b : backends) {
    if (b.name.empty()) return InvalidArgument("storage: a backend without a name");
    if (!b.store) return InvalidArgument("storage: backend '" + b.name + "' has no store");
    if (!names.insert(b.name).second) {
      return InvalidArgument("storage: two backends are named '" + b.name + "'");
    }
  }
  return std::unique_ptr<StorageSet>(new StorageSet(std::move(backends), std::move(scratch_dir)));
}

std::vector<StorageBackendInfo> StorageSet::Backends() const {
  std::vector<StorageBackendInfo> out;
  for (const StorageBackend& b : backends_) out.push_back({b.name, b.kind, &b == &backends_[0]});
  return out;
}

const StorageBackend* StorageSet::Find(const std::string& name) const {
  for (const StorageBackend& b : backends_) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

Result<ArtifactStore*> StorageSet::Backend(const std::string& name) const {
  if (const StorageBackend* b = Find(name)) return b->store.get();
  std::string known;
  for (const StorageBackend& b : backends_) known += (known.empty() ? "" : ", ") + b.name;
  return InvalidArgument("no storage backend named '" + name + "' (this server has: " + known +
                         ")");
}

Result<std::vector<std::string>> StorageSet::Where(const Digest& digest) {
  std::vector<std::string> out;
  for (const StorageBackend& b : backends_) {
    Result<bool> there = b.store->Exists(digest);
    if (!there.ok()) return there.status().WithContext("storage backend '" + b.name + "'");
    if (*there) out.push_back(b.name);
  }
  return out;
}

Result<std::vector<std::vector<std::string>>> StorageSet::WhereMany(
    const std::vector<Digest>& digests, size_t parallel) {
  std::vector<std::vector<std::string>> out(digests.size());
  std::vector<Status> errors(digests.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < digests.size(); i = next++) {
      Result<std::vector<std::string>> w = Where(digests[i]);
      if (w.ok()) {
        out[i] = std::move(*w);
      } else {
        errors[i] = w.status();
      }
    }
  };
  // Local folders answer with a stat: threads would cost more than they save.
  if (!IsRemote()) parallel = 1;
  size_t threads = std::min(std::max<size_t>(parallel, 1), digests.size());
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  for (const Status& st : errors) KILN_RETURN_IF_ERROR(st);
  return out;
}

Result<const StorageBackend*> StorageSet::Holder(const Digest& digest) {
  for (const StorageBackend& b : backends_) {
    Result<bool> there = b.store->Exists(digest);
    if (!there.ok()) return there.status().WithContext("storage backend '" + b.name + "'");
    if (*there) return &b;
  }
  return NotFound("no artifact " + digest.Hex());
}

Result<ArtifactInfo> StorageSet::PutFileTo(const std::string& name, const fs::path& path) {
  KILN_ASSIGN_OR_RETURN(ArtifactStore * store, Backend(name));
  return store->PutFile(path);
}

Result<std::unique_ptr<ArtifactWriter>> StorageSet::NewWriterTo(const std::string& name) {
  KILN_ASSIGN_OR_RETURN(ArtifactStore * store, Backend(name));
  return store->NewWriter();
}

Result<uint64_t> StorageSet::AvailableBytesOf(const std::string& name) {
  KILN_ASSIGN_OR_RETURN(ArtifactStore * store, Backend(name));
  return store->AvailableBytes();
}

Result<StorageChange> StorageSet::Copy(const Digest& digest, const std::string& to) {
  KILN_ASSIGN_OR_RETURN(ArtifactStore * dest, Backend(to));
  std::lock_guard lock(moves_);
  KILN_ASSIGN_OR_RETURN(std::vector<std::string> where, Where(digest));
  if (where.empty()) return NotFound("no artifact " + digest.Hex());
  StorageChange change;
  bool there = false;
  for (const std::string& name : where) there = there || name == to;
  if (!there) {
    ArtifactStore& from = *Find(where.front())->store;
    std::error_code ec;
    fs::create_directories(scratch_dir_, ec);
    Result<ArtifactInfo> copied = CopyArtifact(from, *dest, digest, scratch_dir_);
    if (!copied.ok()) {
      return copied.status().WithContext("copying " + digest.Hex() + " from '" + where.front() +
                                         "' to '" + to + "'");
    }
    change.changed = true;
  }
  KILN_ASSIGN_OR_RETURN(change.size, dest->Size(digest));
  KILN_ASSIGN_OR_RETURN(change.stores, Where(digest));
  return change;
}

Result<StorageChange> StorageSet::Move(const Digest& digest, const std::string& to) {
  KILN_ASSIGN_OR_RETURN(ArtifactStore * dest, Backend(to));
  std::lock_guard lock(moves_);
  KILN_ASSIGN_OR_RETURN(std::vector<std::string> where, Where(digest));
  if (where.empty()) return NotFound("no artifact " + digest.Hex());
  StorageChange change;
  std::string source;  // a backend other than `to` that holds it
  bool there = false;
  for (const std::string& name : where) {
    if (name == to) there = true;
    if (name != to && source.empty()) source = name;
  }
  if (source.empty()) {  // only in `to` already
    change.stores = where;
    KILN_ASSIGN_OR_RETURN(change.size, dest->Size(digest));
    return change;
  }
  ArtifactStore& from = *Find(source)->store;
  KILN_ASSIGN_OR_RETURN(uint64_t size, from.Size(digest));
  if (!there) {
    std::error_code ec;
    fs::create_directories(scratch_dir_, ec);
    Result<ArtifactInfo> copied = CopyArtifact(from, *dest, digest, scratch_dir_);
    if (!copied.ok()) {
      return copied.status().WithContext("moving " + digest.Hex() + " from '" + source + "' to '" +
                                         to + "'");
    }
  }
  // The sources go only once the destination holds all of the bytes: its
  // put verified the digest; its size is checked against the source's.
  KILN_ASSIGN_OR_RETURN(uint64_t copied_size, dest->Size(digest));
  if (copied_size != size) {
    return Corruption("moving " + digest.Hex() + " to '" + to + "': the copy has " +
                      std::to_string(copied_size) + " bytes, the source " + std::to_string(size) +
                      "; the source is kept");
  }
  for (const std::string& name : where) {
    if (name == to) continue;
    Status st = Find(name)->store->Delete(digest);
    if (!st.ok() && st.code() != Code::kNotFound) {
      return st.WithContext("moving " + digest.Hex() + ": deleting it from '" + name + "'");
    }
  }
  change.changed = true;
  change.size = size;
  KILN_ASSIGN_OR_RETURN(change.stores, Where(digest));
  return change;
}

Result<ArtifactInfo> StorageSet::PutFile(const fs::path& path) {
  return backends_.front().store->PutFile(path);
}

Result<ArtifactInfo> StorageSet::PutStream(std::istream& in) {
  return backends_.front().store->PutStream(in);
}

Result<std::unique_ptr<ArtifactWriter>> StorageSet::NewWriter() {
  return backends_.front().store->NewWriter();
}

Result<uint64_t> StorageSet::AvailableBytes() { return backends_.front().store->AvailableBytes(); }

Status StorageSet::GetToFile(const Digest& digest, const fs::path& dest) {
  KILN_ASSIGN_OR_RETURN(const StorageBackend* b, Holder(digest));
  return b->store->GetToFile(digest, dest);
}

Status StorageSet::GetToStream(const Digest& digest, std::ostream& out) {
  KILN_ASSIGN_OR_RETURN(const StorageBackend* b, Holder(digest));
  return b->store->GetToStream(digest, out);
}

Result<fs::path> StorageSet::Materialize(const Digest& digest, const fs::path& scratch_dir) {
  KILN_ASSIGN_OR_RETURN(const StorageBackend* b, Holder(digest));
  return b->store->Materialize(digest, scratch_dir);
}

Result<bool> StorageSet::Exists(const Digest& digest) {
  Result<const StorageBackend*> b = Holder(digest);
  if (b.ok()) return true;
  if (b.status().code() == Code::kNotFound) return false;
  return b.status();
}

Result<uint64_t> StorageSet::Size(const Digest& digest) {
  KILN_ASSIGN_OR_RETURN(const StorageBackend* b, Holder(digest));
  return b->store->Size(digest);
}

Result<std::vector<ArtifactInfo>> StorageSet::List() {
  std::map<Digest, ArtifactInfo> all;
  for (const StorageBackend& b : backends_) {
    Result<std::vector<ArtifactInfo>> list = b.store->List();
    if (!list.ok()) return list.status().WithContext("storage backend '" + b.name + "'");
    for (const ArtifactInfo& a : *list) {
      auto [it, added] = all.emplace(a.digest, a);
      // Stored once anywhere is when it was first stored.
      if (!added && a.modified_ms &&
          (!it->second.modified_ms || a.modified_ms < it->second.modified_ms)) {
        it->second.modified_ms = a.modified_ms;
      }
    }
  }
  std::vector<ArtifactInfo> out;
  out.reserve(all.size());
  for (auto& [digest, info] : all) out.push_back(info);
  return out;
}

Status StorageSet::Delete(const Digest& digest) {
  bool deleted = false;
  for (const StorageBackend& b : backends_) {
    Status st = b.store->Delete(digest);
    if (st.ok()) {
      deleted = true;
    } else if (st.code() != Code::kNotFound) {
      return st.WithContext("storage backend '" + b.name + "'");
    }
  }
  return deleted ? Status::Ok() : NotFound("no artifact " + digest.Hex());
}

bool StorageSet::IsRemote() const {
  for (const StorageBackend& b : backends_) {
    if (b.store->IsRemote()) return true;
  }
  return false;
}

Result<bool> StorageSet::IsRemoteFor(const Digest& digest) {
  KILN_ASSIGN_OR_RETURN(const StorageBackend* b, Holder(digest));
  return b->store->IsRemote();
}

Result<std::string> StorageSet::DownloadUrl(const Digest& digest, int64_t expires_s) {
  (void)expires_s;
  KILN_ASSIGN_OR_RETURN(const StorageBackend* b, Holder(digest));
  if (b->presign_expiry_s <= 0) {
    return FailedPrecondition("storage backend '" + b->name + "' gives no download URLs");
  }
  return b->store->DownloadUrl(digest, b->presign_expiry_s);
}

}  // namespace kiln
