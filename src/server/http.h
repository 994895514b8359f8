// HttpRequest and HttpResponse: the server's own plain request/response
// types, so that handlers, the router and their tests never see Boost.Beast
// (which stays inside http_server.cc; it costs ~40 s to compile).
//
// Ownership: values. Thread-safety: values; not shared between threads.
#pragma once

#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace kiln {

struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string path;                            // percent-decoded, without the query
  std::map<std::string, std::string> query;    // decoded query parameters
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string peer;  // client address

  // Set by the router from the matched pattern ("{p}" → value).
  std::map<std::string, std::string> params;
  // Set by authentication: the user the request acts for.
  std::string user;

  const std::string& Header(const std::string& lower_name) const;
  // The query parameter or `fallback`.
  std::string Query(const std::string& name, const std::string& fallback = "") const;
  const std::string& Param(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, the body is this file, streamed from disk (static assets,
  // artifact downloads); `body` is ignored.
  std::string file_path;
  // The file is a temporary made for this response: it is unlinked once
  // opened (the open descriptor keeps it readable while it is sent).
  bool unlink_file = false;

  static HttpResponse Json(int status, const nlohmann::json& body);
  // {"error": {"code": ..., "message": ...}} with the HTTP status for `code`.
  static HttpResponse Error(const Status& status);
  static HttpResponse Error(int http_status, const std::string& code, const std::string& message);
};

// The HTTP status for a Status code: InvalidArgument 400, Unauthenticated
// 401, PermissionDenied 403, NotFound 404, AlreadyExists/Conflict 409,
// FailedPrecondition 422, ResourceExhausted 413, InsufficientStorage 507,
// Corruption/IOError/Internal 500.
int HttpStatusFor(Code code);

// Runs a handler body that returns Result<HttpResponse>: an error Status
// becomes the error response (HttpResponse::Error).
template <typename F>
HttpResponse Guarded(F&& f) {
  Result<HttpResponse> r = f();
  if (!r.ok()) return HttpResponse::Error(r.status());
  return std::move(r).value();
}

// Parses a request body as a JSON object, or says why not.
Result<nlohmann::json> ParseJsonBody(const HttpRequest& request);

// A file name for Content-Disposition: `asked` with every character other
// than letters, digits, '.', '-' and '_' replaced by '_' (safe in a quoted
// header value and on every file system), at most 100 characters; `fallback`
// when nothing but dots and underscores would be left.
std::string SafeFileName(std::string_view asked, const std::string& fallback);

// Percent-decoding of a URL component; '+' stays '+' except in queries.
Result<std::string> PercentDecode(std::string_view in, bool plus_is_space);

}  // namespace kiln
