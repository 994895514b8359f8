// Commit and project objects: the versioning records stored next to node
// objects in the ObjectStore (docs/formats.md, "Commit object" and
// "Project object").
//
// A commit names the root node object of a tree, its parent commits (first
// parent = the branch it was made on), author, message and time. A project
// object records a project's name, creation time and description; the ref
// projects/<name>/project points at it.
//
// Ownership: value types. Thread-safety: values; functions are reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/digest.h"
#include "core/status.h"

namespace kiln {

struct CommitObject {
  Digest root;
  std::vector<Digest> parents;
  std::string author;
  std::string message;
  int64_t time_ms = 0;

  bool operator==(const CommitObject&) const = default;
};

std::string EncodeCommit(const CommitObject& commit);
Result<CommitObject> DecodeCommit(std::string_view bytes);

struct ProjectObject {
  std::string name;
  std::string description;
  int64_t created_ms = 0;

  bool operator==(const ProjectObject&) const = default;
};

std::string EncodeProject(const ProjectObject& project);
Result<ProjectObject> DecodeProject(std::string_view bytes);

}  // namespace kiln
