// Metrics: the server's counters and latency histograms, rendered in the
// Prometheus text format at /api/v1/metrics.
//
// Ownership: owns its series. Thread-safety: every method is safe from any
// thread (atomics, and a mutex around the label maps).
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <string>

namespace kiln {

class Metrics {
 public:
  // One finished HTTP request: `route` is the matched pattern (bounded label set).
  void ObserveRequest(const std::string& method, const std::string& route, int status,
                      double seconds);
  void SocketOpened() { open_sockets_++; }
  void SocketClosed() { open_sockets_--; }
  void WebSocketOpened() { open_websockets_++; }
  void WebSocketClosed() { open_websockets_--; }
  void CommitMade() { commits_++; }
  void PatchRejected() { patches_rejected_++; }

  std::string RenderPrometheus() const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1,    5};
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> buckets{};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> requests_;    // "method\troute\tstatus" → count
  std::map<std::string, Histogram> latencies_;  // "method\troute" → histogram
  std::atomic<int64_t> open_sockets_{0}, open_websockets_{0};
  std::atomic<uint64_t> commits_{0}, patches_rejected_{0};
};

}  // namespace kiln
