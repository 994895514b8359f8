#include "server/metrics.h"

#include <sstream>

namespace kiln {
namespace {

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

void Metrics::ObserveRequest(const std::string& method, const std::string& route, int status,
                             double seconds) {
  std::string r = route.empty() ? "unmatched" : route;
  std::lock_guard lock(mu_);
  requests_[method + "\t" + r + "\t" + std::to_string(status)]++;
  Histogram& h = latencies_[method + "\t" + r];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) h.buckets[i]++;
  }
  h.count++;
  h.sum += seconds;
}

std::string Metrics::RenderPrometheus() const {
  std::ostringstream out;
  std::lock_guard lock(mu_);
  out << "# HELP kiln_http_requests_total HTTP requests by method, route and status.\n"
         "# TYPE kiln_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    size_t a = key.find('\t'), b = key.rfind('\t');
    out << "kiln_http_requests_total{method=\"" << Escape(key.substr(0, a)) << "\",route=\""
        << Escape(key.substr(a + 1, b - a - 1)) << "\",status=\"" << key.substr(b + 1) << "\"} "
        << n << "\n";
  }
  out << "# HELP kiln_http_request_duration_seconds HTTP request latency.\n"
         "# TYPE kiln_http_request_duration_seconds histogram\n";
  for (const auto& [key, h] : latencies_) {
    size_t a = key.find('\t');
    std::string labels =
        "method=\"" + Escape(key.substr(0, a)) + "\",route=\"" + Escape(key.substr(a + 1)) + "\"";
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      out << "kiln_http_request_duration_seconds_bucket{" << labels << ",le=\"" << kBuckets[i]
          << "\"} " << h.buckets[i] << "\n";
    }
    out << "kiln_http_request_duration_seconds_bucket{" << labels << ",le=\"+Inf\"} " << h.count
        << "\n";
    out << "kiln_http_request_duration_seconds_sum{" << labels << "} " << h.sum << "\n";
    out << "kiln_http_request_duration_seconds_count{" << labels << "} " << h.count << "\n";
  }
  out << "# HELP kiln_open_sockets Open HTTP connections.\n# TYPE kiln_open_sockets gauge\n"
      << "kiln_open_sockets " << open_sockets_.load() << "\n"
      << "# HELP kiln_open_websockets Open WebSocket connections.\n"
         "# TYPE kiln_open_websockets gauge\n"
      << "kiln_open_websockets " << open_websockets_.load() << "\n"
      << "# HELP kiln_commits_total Commits made through the server.\n"
         "# TYPE kiln_commits_total counter\n"
      << "kiln_commits_total " << commits_.load() << "\n"
      << "# HELP kiln_patches_rejected_total Patches rejected by a meta rule or as malformed.\n"
         "# TYPE kiln_patches_rejected_total counter\n"
      << "kiln_patches_rejected_total " << patches_rejected_.load() << "\n";
  return out.str();
}

}  // namespace kiln
