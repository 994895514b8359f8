#include "store/object_store.h"

namespace kiln {

Status ValidateRefName(std::string_view name) {
  if (name.empty() || name.size() > 255) {
    return InvalidArgument("a ref name has 1 to 255 characters");
  }
  if (name.front() == '/' || name.back() == '/') {
    return InvalidArgument("ref name '" + std::string(name) + "' starts or ends with '/'");
  }
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view seg = name.substr(start, end - start);
    if (seg.empty() || seg == "." || seg == "..") {
      return InvalidArgument("ref name '" + std::string(name) +
                             "' has an empty, '.' or '..' segment");
    }
    for (char c : seg) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-';
      if (!ok) {
        return InvalidArgument("ref name '" + std::string(name) +
                               "' has a character outside [A-Za-z0-9._/-]");
      }
    }
    start = end + 1;
  }
  return Status::Ok();
}

Result<std::vector<std::string>> ObjectStore::GetMany(std::span<const Digest> digests) {
  std::vector<std::string> out;
  out.reserve(digests.size());
  for (const Digest& d : digests) {
    KILN_ASSIGN_OR_RETURN(std::string bytes, Get(d));
    out.push_back(std::move(bytes));
  }
  return out;
}

}  // namespace kiln
