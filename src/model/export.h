// Export and import of a whole project as one file: every ref under
// projects/<name>/ (the project object, branches, tags) and every object they
// reach (commits, their parents, node trees). Format: docs/formats.md,
// "Export file". Exporting the same project twice gives the same bytes, and
// export → import → export gives the same bytes again.
//
// Ownership: borrows the store. Thread-safety: safe from any thread (the
// store is); an export reads refs once, so concurrent commits are either
// wholly in it or not.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "store/object_store.h"

namespace kiln {

struct ExportStats {
  size_t objects = 0;
  size_t refs = 0;
  size_t bytes = 0;
};

// Called now and then with (objects done, objects known so far).
using ExportProgress = std::function<void(size_t, size_t)>;

Result<std::string> ExportProject(ObjectStore& store, std::string_view project,
                                  ExportStats* stats = nullptr,
                                  const ExportProgress& progress = nullptr);

// Imports an export file as project `as` (empty: the name inside the file).
// AlreadyExists when that project exists; Corruption when the file is
// damaged (its checksum, an object, a dangling ref). Nothing is written
// unless everything checks out.
Status ImportProject(ObjectStore& store, std::string_view file, std::string_view as,
                     ExportStats* stats = nullptr);

// Parses an export file without writing anything (the fuzz target).
struct ExportFile {
  std::string project;
  std::vector<std::pair<std::string, Digest>> refs;  // relative to projects/<name>/
  std::vector<std::string> objects;
};
Result<ExportFile> ParseExport(std::string_view file);

}  // namespace kiln
