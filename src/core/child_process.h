// RunChildProcess: runs a short-lived helper program (e.g. `python3 -m
// kiln.interface parse`) with bytes on its stdin, captures its stdout and
// stderr, and kills it when it runs past a deadline. For request handlers
// that need an answer from a tool, not for jobs (those go through the
// compute backends, which keep warm workers and stream events).
//
// Safety: the child is started with posix_spawn (safe in a multithreaded
// server, unlike fork + exec), in its own process group, which is SIGKILLed
// on timeout so that grandchildren die too. Its stdin is a socket written
// with MSG_NOSIGNAL, so a child that exits early cannot SIGPIPE the server.
// Output beyond max_output bytes is dropped (and said so), never buffered.
//
// Ownership: values in, values out. Thread-safety: reentrant; each call owns
// its child and its descriptors (all opened close-on-exec).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/status.h"

namespace kiln {

struct ChildProcessOptions {
  std::vector<std::string> argv;  // argv[0] is the program's path (no $PATH search)
  // "NAME=value" entries that replace or add to the server's environment.
  std::vector<std::string> env;
  std::string stdin_data;
  std::chrono::milliseconds timeout{10000};
  size_t max_output = size_t(4) << 20;  // per stream
};

struct ChildProcessResult {
  int exit_code = -1;  // -1 when a signal ended it
  int signal = 0;      // the signal that ended it, else 0
  bool timed_out = false;
  bool output_truncated = false;
  std::string out, err;
};

// NotFound when the program does not exist or cannot be executed;
// IOError when pipes or the spawn fail otherwise. A child that fails,
// crashes or times out is a successful call: look at the result.
Result<ChildProcessResult> RunChildProcess(const ChildProcessOptions& options);

}  // namespace kiln
