// TaskQueue: a fixed set of worker threads that run posted closures in the
// order they were posted (FIFO; with more than one thread, tasks may overlap).
//
// Used where work must leave the thread that discovered it, e.g. the hub's
// commits (an fsync) must not block the server's I/O threads, which would
// stall every other connection they serve.
//
// Ownership: owns its threads. The destructor runs every task already posted,
// then joins; a task posted after destruction began is refused (Post returns
// false) and the caller must run it or fail it itself.
// Thread-safety: Post is safe from any thread, including from a task.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kiln {

class TaskQueue {
 public:
  // `name` labels the threads (visible in top/gdb; at most 15 characters).
  explicit TaskQueue(size_t threads, std::string name = "kiln-tasks");
  ~TaskQueue();
  TaskQueue(const TaskQueue&) = delete;
  TaskQueue& operator=(const TaskQueue&) = delete;

  // Queues `task`; false when the queue is shutting down (the task is dropped).
  bool Post(std::function<void()> task);

 private:
  void Work();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace kiln
