#include "server/router.h"

namespace kiln {

// Splits on '/' first and percent-decodes each segment after, so that
// "%2F" stays inside its segment (tag names like "run/42").
std::vector<std::string> Router::Split(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) {
      Result<std::string> seg = PercentDecode(path.substr(start, end - start), false);
      out.push_back(seg.ok() ? *seg : path.substr(start, end - start));
    }
    start = end + 1;
  }
  return out;
}

void Router::Add(std::string method, std::string pattern, Handler handler, std::string summary) {
  Route r{std::move(method),  pattern, Split(pattern), std::move(handler),
          std::move(summary), nullptr};
  routes_.push_back(std::move(r));
}

void Router::AddStreaming(std::string method, std::string pattern, StreamingHandler handler,
                          std::string summary) {
  auto streaming = std::make_shared<StreamingHandler>(std::move(handler));
  Handler whole = [streaming](HttpRequest& r) -> HttpResponse {
    Result<std::unique_ptr<BodySink>> sink = streaming->begin(r);
    if (!sink.ok()) return HttpResponse::Error(sink.status());
    Status st = (*sink)->Write(r.body.data(), r.body.size());
    if (!st.ok()) return HttpResponse::Error(st);
    return streaming->finish(r, std::move(*sink));
  };
  Route r{std::move(method),   pattern, Split(pattern), std::move(whole), std::move(summary),
          std::move(streaming)};
  routes_.push_back(std::move(r));
}

const StreamingHandler* Router::StreamingFor(HttpRequest& request) const {
  std::vector<std::string> segments = Split(request.path);
  for (const Route& r : routes_) {
    if (r.method != request.method || !Match(r, segments, nullptr)) continue;
    if (!r.streaming) return nullptr;
    request.params.clear();
    Match(r, segments, &request.params);
    return r.streaming.get();
  }
  return nullptr;
}

std::vector<Router::RouteInfo> Router::Routes() const {
  std::vector<RouteInfo> out;
  for (const Route& r : routes_) out.push_back({r.method, r.pattern, r.summary});
  return out;
}

bool Router::Match(const Route& route, const std::vector<std::string>& segments,
                   std::map<std::string, std::string>* params) {
  if (route.segments.size() != segments.size()) return false;
  for (size_t i = 0; i < segments.size(); ++i) {
    const std::string& p = route.segments[i];
    if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
      if (params) (*params)[p.substr(1, p.size() - 2)] = segments[i];
    } else if (p != segments[i]) {
      return false;
    }
  }
  return true;
}

HttpResponse Router::Dispatch(HttpRequest& request) const {
  std::vector<std::string> segments = Split(request.path);
  std::string allow;
  for (const Route& r : routes_) {
    if (!Match(r, segments, nullptr)) continue;
    if (r.method != request.method) {
      if (!allow.empty()) allow += ", ";
      allow += r.method;
      continue;
    }
    request.params.clear();
    Match(r, segments, &request.params);
    return r.handler(request);
  }
  if (!allow.empty()) {
    HttpResponse resp = HttpResponse::Error(405, "MethodNotAllowed",
                                            request.method + " is not allowed on " + request.path);
    resp.headers.emplace_back("Allow", allow);
    return resp;
  }
  return HttpResponse::Error(404, "NotFound", "no endpoint " + request.path);
}

std::string Router::PatternFor(const std::string& method, const std::string& path) const {
  std::vector<std::string> segments = Split(path);
  for (const Route& r : routes_) {
    if (r.method == method && Match(r, segments, nullptr)) return r.pattern;
  }
  return "";
}

}  // namespace kiln
