// CachingOracle: the ShapeOracle the server and the CLI use — answers for
// nodes without a shape rule from a cache keyed by (type, parameters, input
// shapes); a miss is recorded as a request for the torch fallback worker
// (python/kiln/nn/fallback.py, docs/nn.md "The torch fallback"), which the
// caller runs (I/O stays outside src/nn) and feeds back with Store.
//
// A request is a small document: one Input per operand (shapes with every
// dimension that is not a number or a plain name replaced by a fresh name,
// mapped back in the answer), the node, an Output per output port.
//
// Thread-safety: all methods lock; one cache may serve concurrent requests.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "nn/shapes.h"

namespace kiln::nn {

class CachingOracle : public ShapeOracle {
 public:
  struct Request {
    std::string key;
    std::string line;  // one JSON request line for the worker (without the newline)
  };

  std::optional<OracleAnswer> Ask(const Node& node,
                                  const std::vector<std::vector<Flow>>& inputs) override;

  // The misses since the last call, each once.
  std::vector<Request> TakeMisses();
  // Records the worker's answer line for a request; malformed answers
  // become an error answer naming the problem.
  void Store(const Request& request, const std::string& answer_line);
  size_t size() const;

 private:
  struct Pending {
    std::string line;
    std::map<std::string, Dim> renamed;  // fresh name → the dimension it stands for
    std::vector<std::string> outputs;    // the node's output port names
  };
  mutable std::mutex mu_;
  std::map<std::string, OracleAnswer> cache_;
  std::map<std::string, Pending> pending_;  // asked, not yet answered
  std::vector<std::string> misses_;
  int64_t next_id_ = 1;
};

}  // namespace kiln::nn
