#include "compute/fake_backend.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/digest.h"

namespace kiln {

FakeBackend::FakeBackend(size_t slots) : slots_(slots), thread_([this] { Loop(); }) {}

FakeBackend::~FakeBackend() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void FakeBackend::SetHandler(Handler handler) {
  std::lock_guard lock(mu_);
  handler_ = std::move(handler);
}

Status FakeBackend::Submit(const JobRequest& request, JobSink* sink) {
  std::lock_guard lock(mu_);
  if (running_.size() >= slots_) {
    return ResourceExhausted("all " + std::to_string(slots_) + " slots are busy");
  }
  running_.push_back({request, sink});
  submitted_.push_back(request);
  max_concurrent_ = std::max(max_concurrent_, running_.size());
  if (handler_) to_play_.push_back(request.job_id);
  cv_.notify_all();
  return Status::Ok();
}

Status FakeBackend::Cancel(const std::string& job_id) {
  std::lock_guard lock(mu_);
  auto it = std::find_if(running_.begin(), running_.end(),
                         [&](const Job& j) { return j.request.job_id == job_id; });
  if (it == running_.end()) return NotFound("job " + job_id + " is not running");
  FakeOutcome outcome;
  outcome.exit.end = JobExit::End::kExited;
  outcome.exit.exit_code = 143;
  outcome.exit.cancelled = true;
  outcome.exit.reason = "cancelled";
  deliveries_.push_back({job_id, it->sink, std::move(outcome)});
  running_.erase(it);
  cv_.notify_all();
  return Status::Ok();
}

Status FakeBackend::Finish(const std::string& job_id, FakeOutcome outcome) {
  std::lock_guard lock(mu_);
  auto it = std::find_if(running_.begin(), running_.end(),
                         [&](const Job& j) { return j.request.job_id == job_id; });
  if (it == running_.end()) return NotFound("job " + job_id + " is not running");
  deliveries_.push_back({job_id, it->sink, std::move(outcome)});
  running_.erase(it);
  cv_.notify_all();
  return Status::Ok();
}

std::vector<JobRequest> FakeBackend::Running() const {
  std::lock_guard lock(mu_);
  std::vector<JobRequest> out;
  for (const Job& j : running_) out.push_back(j.request);
  return out;
}

std::vector<JobRequest> FakeBackend::Submitted() const {
  std::lock_guard lock(mu_);
  return submitted_;
}

size_t FakeBackend::MaxConcurrent() const {
  std::lock_guard lock(mu_);
  return max_concurrent_;
}

bool FakeBackend::WaitRunning(size_t n, int timeout_ms) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                      [&] { return running_.size() >= n; });
}

void FakeBackend::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !to_play_.empty() || !deliveries_.empty(); });
    if (stop_) return;
    if (!deliveries_.empty()) {
      Delivery d = std::move(deliveries_.front());
      deliveries_.pop_front();
      lock.unlock();
      if (!d.outcome.events.empty()) d.sink->OnEvents(d.job_id, d.outcome.events);
      d.sink->OnExit(d.job_id, d.outcome.exit);
      lock.lock();
      cv_.notify_all();
      continue;
    }
    std::string id = to_play_.front();
    to_play_.pop_front();
    auto it = std::find_if(running_.begin(), running_.end(),
                           [&](const Job& j) { return j.request.job_id == id; });
    if (it == running_.end()) continue;  // cancelled before it was played
    JobRequest request = it->request;
    Handler handler = handler_;
    lock.unlock();
    FakeOutcome outcome = handler(request);
    lock.lock();
    it = std::find_if(running_.begin(), running_.end(),
                      [&](const Job& j) { return j.request.job_id == id; });
    if (it == running_.end()) continue;  // cancelled while it played
    deliveries_.push_back({id, it->sink, std::move(outcome)});
    running_.erase(it);
    cv_.notify_all();
  }
}

Status FakeBackend::WriteSucceeded(const JobRequest& request,
                                   const std::map<std::string, std::string>& outputs) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(request.bundle / "outputs", ec);
  nlohmann::json outs = nlohmann::json::object();
  for (const auto& [name, bytes] : outputs) {
    fs::path path = request.bundle / "outputs" / name;
    std::ofstream(path, std::ios::binary) << bytes;
    outs[name] = {{"path", path.string()},
                  {"serializer", "json"},
                  {"sha256", Digest::Of(bytes).Hex()},
                  {"size", bytes.size()}};
  }
  nlohmann::json result = {{"job_id", request.job_id}, {"status", "succeeded"}, {"exit_code", 0},
                           {"outputs", outs},          {"error", nullptr},      {"timings", {}}};
  std::ofstream out(request.bundle / "result.json");
  out << result.dump();
  return out ? Status::Ok() : IOError("cannot write result.json");
}

Status FakeBackend::WriteFailed(const JobRequest& request, const std::string& type,
                                const std::string& message) {
  nlohmann::json result = {
      {"job_id", request.job_id},
      {"status", "failed"},
      {"exit_code", 1},
      {"outputs", nlohmann::json::object()},
      {"error", {{"type", type}, {"message", message}, {"traceback", ""}, {"location", nullptr}}},
      {"timings", {}}};
  std::ofstream out(request.bundle / "result.json");
  out << result.dump();
  return out ? Status::Ok() : IOError("cannot write result.json");
}

}  // namespace kiln
