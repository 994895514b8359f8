#include "model/commit.h"

#include "core/encoding.h"
#include "model/node.h"

namespace kiln {

std::string EncodeCommit(const CommitObject& c) {
  Encoder e;
  e.Raw(std::string_view("C", 1));
  // Keys in ascending order: author, message, parents, root, time.
  e.Map(5);
  e.Key("author");
  e.String(c.author);
  e.Key("message");
  e.String(c.message);
  e.Key("parents");
  e.List(c.parents.size());
  for (const Digest& p : c.parents) e.BytesItem(p.Raw());
  e.Key("root");
  e.BytesItem(c.root.Raw());
  e.Key("time");
  e.Int(c.time_ms);
  return e.Take();
}

Result<CommitObject> DecodeCommit(std::string_view bytes) {
  KILN_ASSIGN_OR_RETURN(std::string_view body, StripObjectType(bytes, ObjectType::kCommit));
  Decoder d(body);
  CommitObject c;
  KILN_ASSIGN_OR_RETURN(uint64_t fields, d.Map());
  if (fields != 5) return Corruption("commit object must have 5 fields");
  KILN_RETURN_IF_ERROR(d.ExpectKey("author"));
  KILN_ASSIGN_OR_RETURN(std::string_view author, d.String());
  c.author.assign(author);
  KILN_RETURN_IF_ERROR(d.ExpectKey("message"));
  KILN_ASSIGN_OR_RETURN(std::string_view message, d.String());
  c.message.assign(message);
  KILN_RETURN_IF_ERROR(d.ExpectKey("parents"));
  KILN_ASSIGN_OR_RETURN(uint64_t n, d.List());
  for (uint64_t i = 0; i < n; ++i) {
    KILN_ASSIGN_OR_RETURN(std::string_view raw, d.BytesItem());
    KILN_ASSIGN_OR_RETURN(Digest p, Digest::FromBytes(raw));
    c.parents.push_back(p);
  }
  KILN_RETURN_IF_ERROR(d.ExpectKey("root"));
  KILN_ASSIGN_OR_RETURN(std::string_view root, d.BytesItem());
  KILN_ASSIGN_OR_RETURN(c.root, Digest::FromBytes(root));
  KILN_RETURN_IF_ERROR(d.ExpectKey("time"));
  KILN_ASSIGN_OR_RETURN(c.time_ms, d.Int());
  KILN_RETURN_IF_ERROR(d.ExpectEnd());
  return c;
}

std::string EncodeProject(const ProjectObject& p) {
  Encoder e;
  e.Raw(std::string_view("P", 1));
  // Keys in ascending order: created, description, name.
  e.Map(3);
  e.Key("created");
  e.Int(p.created_ms);
  e.Key("description");
  e.String(p.description);
  e.Key("name");
  e.String(p.name);
  return e.Take();
}

Result<ProjectObject> DecodeProject(std::string_view bytes) {
  KILN_ASSIGN_OR_RETURN(std::string_view body, StripObjectType(bytes, ObjectType::kProject));
  Decoder d(body);
  ProjectObject p;
  KILN_ASSIGN_OR_RETURN(uint64_t fields, d.Map());
  if (fields != 3) return Corruption("project object must have 3 fields");
  KILN_RETURN_IF_ERROR(d.ExpectKey("created"));
  KILN_ASSIGN_OR_RETURN(p.created_ms, d.Int());
  KILN_RETURN_IF_ERROR(d.ExpectKey("description"));
  KILN_ASSIGN_OR_RETURN(std::string_view description, d.String());
  p.description.assign(description);
  KILN_RETURN_IF_ERROR(d.ExpectKey("name"));
  KILN_ASSIGN_OR_RETURN(std::string_view name, d.String());
  p.name.assign(name);
  KILN_RETURN_IF_ERROR(d.ExpectEnd());
  return p;
}

}  // namespace kiln
