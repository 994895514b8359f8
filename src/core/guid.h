// Guid: the stable identity of a node, a random (version 4) UUID in its
// canonical lowercase text form, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".
//
// Derived guids (for the children an instance inherits, and for copies) are
// name-based: the first 16 bytes of SHA-256 over the inputs, shaped like a
// UUID, so every client that applies the same patch makes the same ids.
//
// Thread-safety: NewGuid() is safe from any thread (thread-local generator).
#pragma once

#include <string>
#include <string_view>

namespace kiln {

std::string NewGuid();
// A guid determined by `a` and `b` (e.g. an instance's guid and a base child's guid).
std::string DeriveGuid(std::string_view a, std::string_view b);
// True for 36 characters of lowercase hex in the 8-4-4-4-12 shape.
bool IsGuid(std::string_view s);

}  // namespace kiln
