#include "server/http.h"

#include <nlohmann/json.hpp>

#include "core/value.h"

namespace kiln {

const std::string& HttpRequest::Header(const std::string& lower_name) const {
  static const std::string kEmpty;
  auto it = headers.find(lower_name);
  return it == headers.end() ? kEmpty : it->second;
}

std::string HttpRequest::Query(const std::string& name, const std::string& fallback) const {
  auto it = query.find(name);
  return it == query.end() ? fallback : it->second;
}

const std::string& HttpRequest::Param(const std::string& name) const {
  static const std::string kEmpty;
  auto it = params.find(name);
  return it == params.end() ? kEmpty : it->second;
}

HttpResponse HttpResponse::Json(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

HttpResponse HttpResponse::Error(int http_status, const std::string& code,
                                 const std::string& message) {
  return Json(http_status, {{"error", {{"code", code}, {"message", message}}}});
}

HttpResponse HttpResponse::Error(const Status& status) {
  return Error(HttpStatusFor(status.code()), CodeName(status.code()), status.message());
}

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kInvalidArgument:
      return 400;
    case Code::kUnauthenticated:
      return 401;
    case Code::kPermissionDenied:
      return 403;
    case Code::kNotFound:
      return 404;
    case Code::kAlreadyExists:
    case Code::kConflict:
      return 409;
    case Code::kResourceExhausted:
      return 413;
    case Code::kInsufficientStorage:
      return 507;
    case Code::kFailedPrecondition:
      return 422;
    case Code::kCancelled:
      return 499;
    case Code::kUnavailable:
      return 503;
    case Code::kCorruption:
    case Code::kIOError:
    case Code::kInternal:
      return 500;
  }
  return 500;
}

Result<nlohmann::json> ParseJsonBody(const HttpRequest& request) {
  KILN_RETURN_IF_ERROR(Value::CheckJsonIntegers(request.body));
  nlohmann::json j = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument("the request body is not valid JSON");
  if (!j.is_object()) return InvalidArgument("the request body must be a JSON object");
  return j;
}

Result<std::string> PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size() || hex(in[i + 1]) < 0 || hex(in[i + 2]) < 0) {
        return InvalidArgument("malformed percent-encoding in URL");
      }
      out.push_back(char(hex(in[i + 1]) * 16 + hex(in[i + 2])));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string SafeFileName(std::string_view asked, const std::string& fallback) {
  std::string out;
  for (char c : asked) {
    if (out.size() == 100) break;
    bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '-' || c == '_';
    out.push_back(safe ? c : '_');
  }
  if (out.find_first_not_of("._") == std::string::npos) return fallback;
  return out;
}

}  // namespace kiln
