// Router: maps (method, path pattern) to a handler. Patterns are literal
// segments and "{name}" captures, e.g. "/api/v1/projects/{p}/branches/{b}";
// a capture matches one non-empty segment. Dispatch answers 404 for an
// unknown path and 405 (with Allow) for a known path with another method.
//
// Ownership: owns its handlers. Thread-safety: Add() during set-up only;
// Dispatch() is safe from many threads once set up.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "server/http.h"

namespace kiln {

class Router {
 public:
  using Handler = std::function<HttpResponse(HttpRequest&)>;

  // `summary` describes the endpoint in the OpenAPI document.
  void Add(std::string method, std::string pattern, Handler handler, std::string summary = "");
  // Fills request.params and runs the matching handler.
  HttpResponse Dispatch(HttpRequest& request) const;
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
  };
  static std::vector<std::string> Split(const std::string& path);
  static bool Match(const Route& route, const std::vector<std::string>& segments,
                    std::map<std::string, std::string>* params);
  std::vector<Route> routes_;
};

}  // namespace kiln
