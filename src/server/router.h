// Router: maps (method, path pattern) to a handler. Patterns are literal
// segments and "{name}" captures, e.g. "/api/v1/projects/{p}/branches/{b}";
// a capture matches one non-empty segment. Dispatch answers 404 for an
// unknown path and 405 (with Allow) for a known path with another method.
//
// A streaming route (AddStreaming) takes its body as it arrives instead of
// in memory: `begin` runs once the headers are in — it checks access and
// limits and returns where the body goes, or an error answered before a
// byte of the body is read — and `finish` runs after the whole body went
// into the sink. Artifact uploads use it: memory stays one piece of the
// body, whatever its size.
//
// Ownership: owns its handlers. Thread-safety: Add() during set-up only;
// Dispatch() is safe from many threads once set up.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "server/http.h"

namespace kiln {

// Where a streamed request body goes. Destroyed without finish (the client
// went away, a write failed): it must leave nothing behind.
class BodySink {
 public:
  virtual ~BodySink() = default;
  virtual Status Write(const char* data, size_t n) = 0;
};

struct StreamingHandler {
  std::function<Result<std::unique_ptr<BodySink>>(HttpRequest&)> begin;
  std::function<HttpResponse(HttpRequest&, std::unique_ptr<BodySink>)> finish;
};

class Router {
 public:
  using Handler = std::function<HttpResponse(HttpRequest&)>;

  // `summary` describes the endpoint in the OpenAPI document.
  void Add(std::string method, std::string pattern, Handler handler, std::string summary = "");
  void AddStreaming(std::string method, std::string pattern, StreamingHandler handler,
                    std::string summary = "");
  // Fills request.params and runs the matching handler. A streaming route
  // gets request.body as its whole body (tests, small bodies).
  HttpResponse Dispatch(HttpRequest& request) const;
  // The streaming handler for the request, with request.params filled; null
  // when the request is not for a streaming route.
  const StreamingHandler* StreamingFor(HttpRequest& request) const;
  // The pattern that matches `method` + `path`, or "" (for metrics labels).
  std::string PatternFor(const std::string& method, const std::string& path) const;

  struct RouteInfo {
    std::string method, pattern, summary;
  };
  std::vector<RouteInfo> Routes() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
    std::string summary;
    std::shared_ptr<StreamingHandler> streaming;  // null for ordinary routes
  };
  static std::vector<std::string> Split(const std::string& path);
  static bool Match(const Route& route, const std::vector<std::string>& segments,
                    std::map<std::string, std::string>* params);
  std::vector<Route> routes_;
};

}  // namespace kiln
