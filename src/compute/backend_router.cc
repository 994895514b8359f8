#include "compute/backend_router.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

namespace kiln {

namespace {

std::string Plural(int n, const char* one) {
  return std::to_string(n) + " " + one + (n == 1 ? "" : "s");
}

}  // namespace

BackendRouter::BackendRouter(std::vector<RoutedBackend> backends, std::string fallback)
    : fallback_(std::move(fallback)) {
  for (RoutedBackend& b : backends) {
    auto slot = std::make_unique<Slot>();
    slot->gpu_busy.assign(size_t(std::max(0, b.gpus)), false);
    slot->config = std::move(b);
    slots_.push_back(std::move(slot));
  }
  if (fallback_.empty() && !slots_.empty()) fallback_ = slots_.front()->config.name;
}

BackendRouter::~BackendRouter() = default;

size_t BackendRouter::Slots() const {
  size_t n = 0;
  for (const auto& s : slots_) n += s->config.backend->Slots();
  return n;
}

const BackendRouter::Slot* BackendRouter::Find(const std::string& name) const {
  const std::string& wanted = name.empty() ? fallback_ : name;
  for (const auto& s : slots_) {
    if (s->config.name == wanted) return s.get();
  }
  return nullptr;
}

bool BackendRouter::Has(const std::string& name) const { return Find(name) != nullptr; }

std::vector<BackendInfo> BackendRouter::Backends() const {
  std::vector<BackendInfo> out;
  for (const auto& s : slots_) {
    out.push_back({s->config.name, s->config.kind, s->config.backend->Slots(), s->config.gpus,
                   s->config.name == fallback_, s->config.backend->Stats()});
  }
  return out;
}

Status BackendRouter::Admit(const JobRequest& request) const {
  const Slot* slot = Find(request.resources.backend);
  if (!slot) {
    std::string names;
    for (const auto& s : slots_) names += (names.empty() ? "" : ", ") + s->config.name;
    return InvalidArgument("no compute backend named '" + request.resources.backend +
                           "' (this server has: " + names + ")");
  }
  const RoutedBackend& b = slot->config;
  int want = request.resources.gpus;
  if (b.gpus >= 0 && want > b.gpus) {
    std::string hint = b.gpus == 0 && b.kind == "local" ? " (configure gpus = N under [backends." +
                                                              b.name + "] if this machine has GPUs)"
                                                        : "";
    return ResourceExhausted("asks for " + Plural(want, "GPU") + " but backend '" + b.name +
                             "' has " + std::to_string(b.gpus) + hint);
  }
  if (want > 0 && b.gpus >= 0 && !request.resources.gpu_type.empty() && !b.gpu_type.empty() &&
      request.resources.gpu_type != b.gpu_type) {
    return ResourceExhausted("asks for GPUs of type '" + request.resources.gpu_type +
                             "' but backend '" + b.name + "' has '" + b.gpu_type + "'");
  }
  if (b.max_memory_bytes && request.limits.memory_bytes > b.max_memory_bytes) {
    return ResourceExhausted("asks for " + std::to_string(request.limits.memory_bytes >> 20) +
                             " MiB of memory but backend '" + b.name + "' gives at most " +
                             std::to_string(b.max_memory_bytes >> 20) + " MiB");
  }
  return Status::Ok();
}

bool BackendRouter::HasWaitingGpuJob(const Slot& slot) const {
  for (const std::string& id : slot.waiting) {
    auto it = jobs_.find(id);
    if (it != jobs_.end() && it->second.request.resources.gpus > 0) return true;
  }
  return false;
}

bool BackendRouter::Fits(const Slot& slot, const Job& job) const {
  if (slot.in_flight >= slot.config.backend->Slots()) return false;
  if (slot.config.gpus < 0) return true;
  auto free = size_t(std::count(slot.gpu_busy.begin(), slot.gpu_busy.end(), false));
  return free >= size_t(job.request.resources.gpus);
}

Status BackendRouter::Submit(const JobRequest& request, JobSink* sink) {
  KILN_RETURN_IF_ERROR(Admit(request));
  std::unique_lock lock(mu_);
  Slot* slot = const_cast<Slot*>(Find(request.resources.backend));
  if (jobs_.count(request.job_id)) return AlreadyExists("job " + request.job_id + " is submitted");
  Job& job = jobs_[request.job_id];
  job.request = request;
  job.sink = sink;
  job.slot = slot;
  // GPU jobs queue in order among themselves; others only wait for a slot.
  bool gpu_queue = request.resources.gpus > 0 && slot->config.gpus >= 0 && HasWaitingGpuJob(*slot);
  if (gpu_queue || !Fits(*slot, job)) {
    slot->waiting.push_back(request.job_id);
    std::string note = request.resources.gpus > 0 && slot->config.gpus >= 0
                           ? "waiting for " + Plural(request.resources.gpus, "free GPU") + " on " +
                                 slot->config.name
                           : "waiting for a free slot on " + slot->config.name;
    std::string id = request.job_id, name = slot->config.name;
    // Through OnPlaced, which skips a job that has ended meanwhile (its
    // sink may be gone by the time the task runs).
    tasks_.Post([this, id, name, note] { OnPlaced(id, JobPlacement{name, "", "", false, note}); });
    return Status::Ok();
  }
  Claim(job);
  lock.unlock();
  Hand(request.job_id);
  return Status::Ok();
}

// Takes a slot and the job's GPUs for it (lock held); its request gets
// CUDA_VISIBLE_DEVICES naming exactly those GPUs.
void BackendRouter::Claim(Job& job) {
  Slot& slot = *job.slot;
  slot.in_flight++;
  job.started = true;
  if (slot.config.gpus < 0) return;
  std::string visible;
  for (size_t g = 0; g < slot.gpu_busy.size() && int(job.gpus.size()) < job.request.resources.gpus;
       ++g) {
    if (slot.gpu_busy[g]) continue;
    slot.gpu_busy[g] = true;
    job.gpus.push_back(int(g));
    visible += (visible.empty() ? "" : ",") + std::to_string(g);
  }
  job.request.env["CUDA_VISIBLE_DEVICES"] = visible;
}

// Submits a claimed job to its backend, without the router's lock (a
// backend may call back from its own threads at once).
void BackendRouter::Hand(const std::string& job_id) {
  JobRequest request;
  Slot* slot;
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) return;
    if (it->second.cancel_requested) {
      // Cancelled between its claim and now: it never reaches the backend.
      JobSink* sink = it->second.sink;
      std::vector<std::string> next = Release(*it->second.slot, it->second);
      jobs_.erase(it);
      PostCancelled(sink, job_id);
      HandAll(next);
      return;
    }
    request = it->second.request;
    slot = it->second.slot;
    if (slot->config.kind == "local") {
      it->second.placement_due = JobPlacement{slot->config.name, slot->config.host, "", true, ""};
    }
  }
  Status st = slot->config.backend->Submit(request, this);
  if (!st.ok()) {
    {
      std::lock_guard lock(mu_);
      auto it = jobs_.find(job_id);
      if (it != jobs_.end()) it->second.placement_due.reset();
    }
    JobExit exit;
    exit.end = JobExit::End::kLost;
    exit.reason = "backend '" + slot->config.name + "' refused the job: " + st.message();
    tasks_.Post([this, job_id, exit] { OnExit(job_id, exit); });
    return;
  }
  bool cancel_now = false;
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(job_id);
    if (it != jobs_.end()) {
      it->second.handed = true;
      cancel_now = it->second.cancel_requested;
    }
  }
  if (cancel_now) (void)slot->config.backend->Cancel(job_id);
  if (slot->config.kind == "local") tasks_.Post([this, job_id] { DeliverPlacement(job_id); });
}

void BackendRouter::DeliverPlacement(const std::string& job_id) {
  JobSink* sink;
  JobPlacement placement;
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(job_id);
    if (it == jobs_.end() || !it->second.placement_due) return;
    placement = *it->second.placement_due;
    it->second.placement_due.reset();
    it->second.placing = true;
    sink = it->second.sink;
    forwarding_++;
  }
  sink->OnPlaced(job_id, placement);
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(job_id);
    if (it != jobs_.end()) it->second.placing = false;
  }
  forwarding_--;
}

// The OnExit of a job cancelled before it reached its backend (mu_ held; the
// job is already forgotten, so the call goes to its sink directly, counted
// for Unbind).
void BackendRouter::PostCancelled(JobSink* sink, const std::string& job_id) {
  JobExit exit;
  exit.cancelled = true;
  exit.end = JobExit::End::kSignaled;
  exit.reason = "cancelled while waiting";
  forwarding_++;
  tasks_.Post([this, sink, job_id, exit] {
    sink->OnExit(job_id, exit);
    forwarding_--;
  });
}

Status BackendRouter::Cancel(const std::string& job_id) {
  std::unique_lock lock(mu_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return NotFound("job " + job_id + " is not running");
  if (it->second.started && !it->second.handed) {
    // Claimed, on its way to the backend (Hand): Hand cancels it.
    it->second.cancel_requested = true;
    return Status::Ok();
  }
  if (it->second.started) {
    ComputeBackend* backend = it->second.slot->config.backend;
    lock.unlock();
    return backend->Cancel(job_id);
  }
  Slot& slot = *it->second.slot;
  slot.waiting.erase(std::remove(slot.waiting.begin(), slot.waiting.end(), job_id),
                     slot.waiting.end());
  JobSink* sink = it->second.sink;
  jobs_.erase(it);
  PostCancelled(sink, job_id);
  return Status::Ok();
}

Status BackendRouter::Adopt(const std::string& job_id, JobSink* sink) {
  for (const auto& slot : slots_) {
    {
      std::lock_guard lock(mu_);
      if (jobs_.count(job_id)) return AlreadyExists("job " + job_id + " is known");
      Job& job = jobs_[job_id];  // so that its first callbacks find it
      job.request.job_id = job_id;
      job.sink = sink;
      job.slot = slot.get();
      job.started = job.handed = true;
    }
    Status st = slot->config.backend->Adopt(job_id, this);
    std::lock_guard lock(mu_);
    if (st.ok()) {
      slot->in_flight++;  // counted only once it is taken: waiting jobs never see a phantom
      return st;
    }
    jobs_.erase(job_id);
  }
  return NotFound("no backend knows job " + job_id);
}

bool BackendRouter::Detach(const std::string& job_id) {
  ComputeBackend* backend;
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(job_id);
    if (it == jobs_.end() || !it->second.started) return false;
    backend = it->second.slot->config.backend;
  }
  if (!backend->Detach(job_id)) return false;
  std::vector<std::string> next;
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(job_id);
    if (it != jobs_.end()) {
      next = Release(*it->second.slot, it->second);
      jobs_.erase(it);
    }
  }
  HandAll(next);
  return true;
}

void BackendRouter::OnEvents(const std::string& job_id, std::vector<std::string> lines) {
  JobSink* sink;
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) return;
    sink = it->second.sink;
    forwarding_++;
  }
  sink->OnEvents(job_id, std::move(lines));
  forwarding_--;
}

void BackendRouter::OnPlaced(const std::string& job_id, const JobPlacement& placement) {
  JobSink* sink;
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) return;
    sink = it->second.sink;
    forwarding_++;
  }
  sink->OnPlaced(job_id, placement);
  forwarding_--;
}

// Frees what a job that left held (lock held) and claims the waiting jobs
// that now fit, in arrival order; a GPU job that does not fit holds back
// later GPU jobs (no starving a big one), not others. Returns the claimed
// jobs, for Hand() without the lock.
std::vector<std::string> BackendRouter::Release(Slot& slot, Job& left) {
  if (left.started && slot.in_flight > 0) slot.in_flight--;
  for (int g : left.gpus) slot.gpu_busy[size_t(g)] = false;
  left.gpus.clear();
  left.started = false;
  std::vector<std::string> next;
  bool gpus_blocked = false;
  for (auto w = slot.waiting.begin(); w != slot.waiting.end();) {
    auto job = jobs_.find(*w);
    if (job == jobs_.end()) {
      w = slot.waiting.erase(w);
      continue;
    }
    bool wants_gpus = job->second.request.resources.gpus > 0;
    if (wants_gpus && gpus_blocked) {
      ++w;
      continue;
    }
    if (!Fits(slot, job->second)) {
      if (slot.in_flight >= slot.config.backend->Slots()) break;  // no slot for anyone
      gpus_blocked = gpus_blocked || wants_gpus;
      ++w;
      continue;
    }
    // Claimed now, so the next waiting job sees the slot and GPUs taken.
    next.push_back(*w);
    Claim(job->second);
    w = slot.waiting.erase(w);
  }
  return next;
}

void BackendRouter::HandAll(const std::vector<std::string>& ids) {
  for (const std::string& id : ids) tasks_.Post([this, id] { Hand(id); });
}

void BackendRouter::OnExit(const std::string& job_id, const JobExit& exit) {
  JobSink* sink;
  std::vector<std::string> next;
  std::optional<JobPlacement> due;
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) return;
    if (it->second.placing) {
      // Its placement is being delivered on tasks_: the exit follows it there.
      tasks_.Post([this, job_id, exit] { OnExit(job_id, exit); });
      return;
    }
    sink = it->second.sink;
    due = std::move(it->second.placement_due);
    next = Release(*it->second.slot, it->second);
    jobs_.erase(it);
    forwarding_++;
  }
  if (due) sink->OnPlaced(job_id, *due);
  sink->OnExit(job_id, exit);
  forwarding_--;
  HandAll(next);
}

void BackendRouter::Unbind(JobSink* sink) {
  {
    std::lock_guard lock(mu_);
    std::erase_if(jobs_, [&](const auto& j) { return j.second.sink == sink; });
  }
  // A call to it that began before returns first.
  while (forwarding_.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

}  // namespace kiln
