#include "model/export.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/encoding.h"
#include "model/commit.h"
#include "model/node.h"
#include "model/repository.h"

namespace kiln {
namespace {

constexpr std::string_view kMagic = "KILNEXP1";

// The digests an object refers to, by its type byte.
Status Children(std::string_view bytes, std::vector<Digest>* out) {
  if (bytes.empty()) return Corruption("empty object");
  switch (ObjectType(bytes[0])) {
    case ObjectType::kNode: {
      NodeObject node;
      KILN_RETURN_IF_ERROR(DecodeNode(bytes, &node));
      for (const auto& [guid, d] : node.children) out->push_back(d);
      return Status::Ok();
    }
    case ObjectType::kCommit: {
      KILN_ASSIGN_OR_RETURN(CommitObject c, DecodeCommit(bytes));
      out->push_back(c.root);
      for (const Digest& p : c.parents) out->push_back(p);
      return Status::Ok();
    }
    case ObjectType::kProject:
      return Status::Ok();
  }
  return Corruption("unknown object type '" + std::string(1, bytes[0]) + "'");
}

}  // namespace

Result<std::string> ExportProject(ObjectStore& store, std::string_view project, ExportStats* stats,
                                  const ExportProgress& progress) {
  KILN_RETURN_IF_ERROR(ValidateProjectName(project));
  std::string prefix = "projects/" + std::string(project) + "/";
  KILN_ASSIGN_OR_RETURN(auto refs, store.ListRefs(prefix));
  if (refs.empty()) return NotFound("no project '" + std::string(project) + "'");

  // Walk everything reachable, level by level, fetching in bulk.
  std::map<Digest, std::string> objects;  // sorted by digest: deterministic output
  std::vector<Digest> frontier;
  for (const auto& [name, d] : refs) frontier.push_back(d);
  while (!frontier.empty()) {
    std::vector<Digest> wanted;
    for (const Digest& d : frontier) {
      if (!objects.count(d)) wanted.push_back(d);
    }
    std::sort(wanted.begin(), wanted.end());
    wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
    frontier.clear();
    if (wanted.empty()) break;
    KILN_ASSIGN_OR_RETURN(auto bytes, store.GetMany(wanted));
    for (size_t i = 0; i < wanted.size(); ++i) {
      KILN_RETURN_IF_ERROR(Children(bytes[i], &frontier).WithContext("object " + wanted[i].Hex()));
      objects.emplace(wanted[i], std::move(bytes[i]));
    }
    if (progress) progress(objects.size(), objects.size() + frontier.size());
  }

  Encoder e;
  e.Raw(kMagic);
  Encoder header;
  header.Map(3);
  header.Key("format");
  header.Int(1);
  header.Key("project");
  header.String(project);
  header.Key("refs");
  header.Map(refs.size());
  for (const auto& [name, d] : refs) {  // ListRefs sorts by name
    header.Key(std::string_view(name).substr(prefix.size()));
    header.BytesItem(d.Raw());
  }
  e.Varint(header.bytes().size());
  e.Raw(header.bytes());
  e.Varint(objects.size());
  for (const auto& [d, bytes] : objects) {
    e.Varint(bytes.size());
    e.Raw(bytes);
  }
  std::string out = e.Take();
  Digest sum = Digest::Of(out);
  out.append(sum.Raw());
  if (stats) *stats = {objects.size(), refs.size(), out.size()};
  return out;
}

Result<ExportFile> ParseExport(std::string_view file) {
  if (file.size() < kMagic.size() + Digest::kSize || file.substr(0, kMagic.size()) != kMagic) {
    return Corruption("not a Kiln export file (bad magic)");
  }
  std::string_view body = file.substr(0, file.size() - Digest::kSize);
  if (Digest::Of(body).Raw() != file.substr(body.size())) {
    return Corruption("export file checksum does not match: the file is damaged or truncated");
  }
  Decoder d(body.substr(kMagic.size()));
  KILN_ASSIGN_OR_RETURN(uint64_t header_len, d.Varint());
  std::string_view rest = body.substr(kMagic.size() + d.position());
  if (header_len > rest.size()) return Corruption("export header runs past the end");
  Decoder h(rest.substr(0, header_len));
  ExportFile out;
  KILN_ASSIGN_OR_RETURN(uint64_t fields, h.Map());
  if (fields != 3) return Corruption("export header must have 3 fields");
  KILN_RETURN_IF_ERROR(h.ExpectKey("format"));
  KILN_ASSIGN_OR_RETURN(int64_t format, h.Int());
  if (format != 1) return Corruption("unsupported export format " + std::to_string(format));
  KILN_RETURN_IF_ERROR(h.ExpectKey("project"));
  KILN_ASSIGN_OR_RETURN(std::string_view project, h.String());
  out.project = std::string(project);
  KILN_RETURN_IF_ERROR(ValidateProjectName(out.project));
  KILN_RETURN_IF_ERROR(h.ExpectKey("refs"));
  KILN_ASSIGN_OR_RETURN(uint64_t nrefs, h.Map());
  std::string_view prev;
  for (uint64_t i = 0; i < nrefs; ++i) {
    KILN_ASSIGN_OR_RETURN(std::string_view name, h.Key(i ? &prev : nullptr));
    prev = name;
    KILN_ASSIGN_OR_RETURN(std::string_view raw, h.BytesItem());
    KILN_ASSIGN_OR_RETURN(Digest dig, Digest::FromBytes(raw));
    out.refs.emplace_back(std::string(name), dig);
  }
  KILN_RETURN_IF_ERROR(h.ExpectEnd());
  Decoder o(rest.substr(header_len));
  KILN_ASSIGN_OR_RETURN(uint64_t count, o.Varint());
  if (count > rest.size()) return Corruption("object count past the end");
  std::string_view objs = rest.substr(header_len + o.position());
  o = Decoder(objs);
  for (uint64_t i = 0; i < count; ++i) {
    KILN_ASSIGN_OR_RETURN(uint64_t len, o.Varint());
    size_t at = o.position();
    if (len > objs.size() - at)
      return Corruption("object " + std::to_string(i) + " runs past the end");
    out.objects.emplace_back(objs.substr(at, len));
    // Continue after the object's bytes (a Decoder reads tagged items only).
    objs = objs.substr(at + len);
    o = Decoder(objs);
  }
  if (!o.AtEnd()) return Corruption("trailing bytes after the objects");
  return out;
}

Status ImportProject(ObjectStore& store, std::string_view file, std::string_view as,
                     ExportStats* stats) {
  KILN_ASSIGN_OR_RETURN(ExportFile f, ParseExport(file));
  std::string name = as.empty() ? f.project : std::string(as);
  KILN_RETURN_IF_ERROR(ValidateProjectName(name));
  std::string prefix = "projects/" + name + "/";
  KILN_ASSIGN_OR_RETURN(auto existing, store.ListRefs(prefix));
  if (!existing.empty())
    return AlreadyExists("project '" + name + "' exists; import it under another name");

  WriteBatch batch;
  std::set<Digest> have;
  for (std::string& bytes : f.objects) {
    std::vector<Digest> ignored;
    KILN_RETURN_IF_ERROR(Children(bytes, &ignored).WithContext("export file"));
    have.insert(batch.Put(std::move(bytes)));
  }
  // Every object must be complete: whatever an object names is in the file.
  for (const auto& [d, bytes] : batch.objects()) {
    std::vector<Digest> kids;
    KILN_RETURN_IF_ERROR(Children(bytes, &kids));
    for (const Digest& k : kids) {
      if (!have.count(k)) return Corruption("export file lacks object " + k.Hex());
    }
  }
  std::optional<Digest> project_object;
  for (const auto& [rel, d] : f.refs) {
    if (!have.count(d)) return Corruption("ref '" + rel + "' points outside the export file");
    if (rel == "project") {
      project_object = d;
      continue;
    }
    batch.UpdateRef({prefix + rel, std::nullopt, d});
  }
  if (!project_object) return Corruption("export file has no project object");
  // Renaming writes a new project object; otherwise the original is kept so
  // that a re-export is byte-identical.
  if (name != f.project) {
    KILN_ASSIGN_OR_RETURN(std::string old, [&]() -> Result<std::string> {
      for (const auto& [d, bytes] : batch.objects()) {
        if (d == *project_object) return bytes;
      }
      return Corruption("project object missing");
    }());
    KILN_ASSIGN_OR_RETURN(ProjectObject p, DecodeProject(old));
    p.name = name;
    project_object = batch.Put(EncodeProject(p));
  }
  batch.UpdateRef({prefix + "project", std::nullopt, *project_object});
  if (stats) *stats = {batch.objects().size(), f.refs.size(), file.size()};
  Status s = store.Write(batch);
  if (s.code() == Code::kConflict)
    return AlreadyExists("project '" + name + "' was created meanwhile");
  return s;
}

}  // namespace kiln
