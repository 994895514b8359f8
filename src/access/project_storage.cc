#include "access/project_storage.h"

#include "core/value.h"

namespace kiln {
namespace {

constexpr char kStorageTag = 'S';

std::string RefName(const std::string& project) { return "storage/" + project; }

}  // namespace

Result<std::string> ProjectStorage::Get(const std::string& project) {
  std::string ref = RefName(project);
  if (!ValidateRefName(ref).ok()) return InvalidArgument("bad project name '" + project + "'");
  KILN_ASSIGN_OR_RETURN(std::optional<Digest> d, store_.GetRef(ref));
  if (!d) return std::string();
  KILN_ASSIGN_OR_RETURN(std::string bytes, store_.Get(*d));
  if (bytes.empty() || bytes[0] != kStorageTag) {
    return Corruption("the storage choice of project '" + project + "' has the wrong type");
  }
  KILN_ASSIGN_OR_RETURN(Value v, Value::Decode(std::string_view(bytes).substr(1)));
  if (!v.is_map())
    return Corruption("the storage choice of project '" + project + "' is not a map");
  auto it = v.as_map().find("backend");
  if (it == v.as_map().end() || !it->second.is_string()) {
    return Corruption("the storage choice of project '" + project + "' names no backend");
  }
  return it->second.as_string();
}

Status ProjectStorage::Set(const std::string& project, const std::string& backend) {
  std::string ref = RefName(project);
  KILN_RETURN_IF_ERROR(ValidateRefName(ref).WithContext("project '" + project + "'"));
  // Another server may set it at the same time: the last one wins, whole.
  for (int attempt = 0;; ++attempt) {
    KILN_ASSIGN_OR_RETURN(std::optional<Digest> current, store_.GetRef(ref));
    WriteBatch b;
    if (backend.empty()) {
      if (!current) return Status::Ok();
      b.UpdateRef({ref, current, std::nullopt});
    } else {
      Digest d =
          b.Put(std::string(1, kStorageTag) + Value(Value::Map{{"backend", backend}}).Encode());
      b.UpdateRef({ref, current, d});
    }
    Status st = store_.Write(b);
    if (st.code() != Code::kConflict || attempt >= 10) return st;
  }
}

}  // namespace kiln
