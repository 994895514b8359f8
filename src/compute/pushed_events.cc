#include "compute/pushed_events.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <vector>

namespace kiln {

std::string PushedEvents::NewToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();  // no randomness: nothing is safe
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

void PushedEvents::Register(const std::string& job_id, const std::string& token, JobSink* sink,
                            uint64_t next, bool trust_first_offset) {
  auto job = std::make_shared<Job>();
  job->token = token;
  job->sink = sink;
  job->next = next;
  job->trust_first_offset = trust_first_offset;
  std::lock_guard lock(mu_);
  jobs_[job_id] = std::move(job);
}

uint64_t PushedEvents::Close(const std::string& job_id) {
  std::shared_ptr<Job> job;
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) return 0;
    job = it->second;
    jobs_.erase(it);
  }
  std::lock_guard deliver(job->deliver);  // a delivery in progress ends first
  job->closed = true;
  return job->next;
}

uint64_t PushedEvents::Next(const std::string& job_id) {
  std::shared_ptr<Job> job = Find(job_id);
  if (!job) return 0;
  std::lock_guard deliver(job->deliver);
  return job->next;
}

Result<uint64_t> PushedEvents::Rekey(const std::string& job_id, const std::string& token) {
  std::shared_ptr<Job> job = Find(job_id);
  if (!job) return NotFound("job " + job_id + " is not running");
  std::lock_guard deliver(job->deliver);
  if (job->closed) return NotFound("job " + job_id + " is not running");
  job->token = token;
  return job->next;
}

std::shared_ptr<PushedEvents::Job> PushedEvents::Find(const std::string& job_id) const {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(job_id);
  return it == jobs_.end() ? nullptr : it->second;
}

size_t PushedEvents::size() const {
  std::lock_guard lock(mu_);
  return jobs_.size();
}

Result<uint64_t> PushedEvents::Receive(const std::string& job_id, std::string_view token,
                                       uint64_t offset, std::string_view body,
                                       uint64_t* next_on_conflict) {
  std::shared_ptr<Job> job = Find(job_id);
  if (!job) return NotFound("job " + job_id + " is not running");
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find('\n', start);
    if (end == std::string_view::npos) {
      return InvalidArgument("the body's last line is not complete (every line ends with \\n)");
    }
    lines.emplace_back(body.substr(start, end - start));  // an empty line counts too
    start = end + 1;
  }
  std::lock_guard deliver(job->deliver);
  if (job->closed) return NotFound("job " + job_id + " is not running");
  // Under the delivery lock: a token Rekey replaced is refused from then on.
  if (token.size() != job->token.size() ||
      CRYPTO_memcmp(token.data(), job->token.data(), token.size()) != 0) {
    return Status(Code::kPermissionDenied, "wrong token for job " + job_id);
  }
  if (job->trust_first_offset) {
    job->trust_first_offset = false;
    job->next = std::max(job->next, offset);
  }
  if (offset > job->next) {
    if (next_on_conflict) *next_on_conflict = job->next;
    return FailedPrecondition("lines from " + std::to_string(offset) +
                              " sent, but the server has " + std::to_string(job->next) +
                              ": resend from there");
  }
  // A retried batch: skip what already arrived.
  uint64_t skip = job->next - offset;
  if (skip >= lines.size()) return job->next;
  lines.erase(lines.begin(), lines.begin() + ptrdiff_t(skip));
  job->next += lines.size();
  std::erase_if(lines, [](const std::string& l) { return l.empty(); });
  if (!lines.empty()) job->sink->OnEvents(job_id, std::move(lines));
  return job->next;
}

}  // namespace kiln
