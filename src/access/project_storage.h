// ProjectStorage: each project's choice of the storage backend its new
// artifacts go to (docs/storage.md, "Several backends"): uploads and job
// outputs. Kept in the ObjectStore beside the project's roles, under the ref
// "storage/<project>" (a tagged record {"backend": name}), so every server
// on one database (PostgreSQL) sees the same choice. No ref = the default
// backend. Whether the name is a backend of this server is the caller's
// check (the names come from the config file).
//
// Ownership: borrows the store, which must outlive it.
// Thread-safety: safe for concurrent use (no state of its own; Set is a
// compare-and-swap on the ref, retried on a lost race).
#pragma once

#include <string>

#include "core/status.h"
#include "store/object_store.h"

namespace kiln {

class ProjectStorage {
 public:
  explicit ProjectStorage(ObjectStore& store) : store_(store) {}

  // The backend's name, or "" when the project has not chosen one.
  Result<std::string> Get(const std::string& project);
  // backend "" forgets the choice (back to the default backend).
  Status Set(const std::string& project, const std::string& backend);

 private:
  ObjectStore& store_;
};

}  // namespace kiln
