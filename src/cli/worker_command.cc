#include "cli/worker_command.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>
#include <thread>

#include "worker/worker.h"

namespace kiln {

void AddWorkerCommand(CLI::App& app, int* rc) {
  auto o = std::make_shared<WorkerOptions>();
  auto work_dir = std::make_shared<std::string>();
  auto cache_gb = std::make_shared<double>(20);
  if (const char* t = std::getenv("KILN_TOKEN"); t && *t) o->token = t;
  if (const char* u = std::getenv("KILN_SERVER"); u && *u) o->server = u;
  auto* cmd = app.add_subcommand(
      "worker", "Run a server's jobs on this machine, connecting out (docs/compute.md)");
  cmd->add_option("--server", o->server, "The Kiln server ($KILN_SERVER)");
  cmd->add_option("--token", o->token,
                  "A worker token ($KILN_TOKEN; kiln workers token NAME); none without sign-in");
  cmd->add_option("--name", o->name, "This worker's name (default: the host name)");
  cmd->add_option("--backend", o->backend,
                  "The server's remote backend to serve (default: its first)");
  cmd->add_option("--slots", o->slots, "Jobs at once (default: the number of cores)");
  cmd->add_option("--gpus", o->gpus, "GPUs to hand out (default: as nvidia-smi -L lists them)");
  cmd->add_option("--gpu-type", o->gpu_type, "What the GPUs are (jobs may ask for a type)");
  cmd->add_option("--work-dir", *work_dir,
                  "Bundles and cached inputs (default: ~/.local/share/kiln-worker)");
  cmd->add_option("--cache-gb", *cache_gb, "Inputs kept for later jobs")->capture_default_str();
  cmd->add_option("--preload", o->local.preload,
                  "Modules the warm workers import ahead, comma-separated")
      ->capture_default_str();
  cmd->add_option("--light-workers", o->local.light_zygotes,
                  "Warm workers without torch, for jobs that need only the standard library")
      ->capture_default_str();
  cmd->callback([=] {
    if (o->server.empty()) {
      std::cerr << "kiln worker: give the server's address with --server URL (or $KILN_SERVER)\n";
      *rc = 2;
      return;
    }
    WorkerOptions options = *o;
    if (!work_dir->empty()) {
      options.work_dir = *work_dir;
    } else {
      const char* home = std::getenv("HOME");
      options.work_dir = std::string(home && *home ? home : ".") + "/.local/share/kiln-worker";
    }
    options.cache_bytes = uint64_t(std::max(0.0, *cache_gb) * double(1ull << 30));
    // Signals go to a waiting thread only (blocked before any thread starts).
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    auto worker = Worker::Start(options);
    if (!worker.ok()) {
      std::cerr << "kiln worker: " << worker.status().message() << "\n";
      *rc = 1;
      return;
    }
    Worker* w = worker->get();
    std::thread waiter([w, signals] {
      int sig = 0;
      sigwait(&signals, &sig);
      if (w->stopped()) return;  // Run ended by itself and woke this thread
      spdlog::info("{}: stopping (the jobs here go back to the server)",
                   sig == SIGINT ? "SIGINT" : "SIGTERM");
      w->Stop();
    });
    Status st = w->Run();
    // Wake the waiter if Run ended by itself (a fatal answer).
    pthread_kill(waiter.native_handle(), SIGTERM);
    waiter.join();
    if (!st.ok()) {
      std::cerr << "kiln worker: " << st.message() << "\n";
      *rc = 1;
    }
  });
}

}  // namespace kiln
