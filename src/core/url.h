// UrlSegment: percent-encoding of one URL path segment or query value (every
// byte but RFC 3986's unreserved characters), for Kiln's HTTP clients (the
// CLI, kiln worker).
//
// Thread-safety: a pure function.
#pragma once

#include <string>

namespace kiln {

std::string UrlSegment(const std::string& s);

}  // namespace kiln
