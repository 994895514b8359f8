#include "cli/gc_command.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>

#include "access/credentials.h"
#include "config/config.h"
#include "core/clock.h"
#include "gc/gc.h"
#include "model/repository.h"
#include "runs/runs_store.h"
#include "server/serve.h"
#include "storage/artifact_store.h"
#include "storage/storage_set.h"
#include "store/object_store.h"

namespace kiln {

namespace {

std::string Bytes(uint64_t n) {
  char buf[32];
  if (n >= (1ull << 30)) {
    std::snprintf(buf, sizeof buf, "%.1f GiB", double(n) / double(1ull << 30));
  } else if (n >= (1ull << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", double(n) / double(1ull << 20));
  } else {
    std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(n));
  }
  return buf;
}

struct Args {
  bool remove = false, yes = false;
  double grace_hours = 1;
};

Status Run(const Args& args, const std::string& data_dir, const std::string& config_path) {
  ServerConfig config;
  if (!config_path.empty()) {
    KILN_ASSIGN_OR_RETURN(config, LoadServerConfig(config_path));
  }
  KILN_ASSIGN_OR_RETURN(auto store, OpenObjectStore(config.database, data_dir));
  Repository repo(*store, SystemClock::Get());
  KILN_ASSIGN_OR_RETURN(auto runs, OpenRunsStore(config.database, data_dir));
  KILN_ASSIGN_OR_RETURN(ServerKey key, ServerKey::LoadOrCreate(CredentialsKeyPath(data_dir)));
  Credentials credentials(*store, SystemClock::Get(), key);
  KILN_ASSIGN_OR_RETURN(auto artifacts, OpenArtifactStore(config, data_dir, &credentials));
  GcOptions o;
  o.grace_ms = int64_t(args.grace_hours * 3600 * 1000);
  std::cerr << "kiln gc: reading every commit of every branch and tag, and the runs…\n";
  KILN_ASSIGN_OR_RETURN(GcPlan plan, PlanGarbage(repo, *runs, *artifacts, o));
  size_t stored = plan.garbage.size() + plan.kept_by_history + plan.kept_by_runs + plan.kept_young;
  std::cout << plan.garbage.size() << " of " << stored << " artifacts ("
            << Bytes(plan.garbage_bytes) << " of " << Bytes(plan.stored_bytes)
            << ") are referenced by nothing:\n";
  for (const GcCandidate& c : plan.garbage) {
    std::string projects;
    for (const auto& p : c.projects) projects += (projects.empty() ? "" : ", ") + p;
    // With several storage backends: which of them hold it (all are deleted).
    std::string where;
    if (artifacts->Backends().size() > 1) {
      KILN_ASSIGN_OR_RETURN(std::vector<std::string> stores, artifacts->Where(c.artifact.digest));
      for (const auto& s : stores) where += (where.empty() ? "  in storage: " : ", ") + s;
    }
    std::cout << "  " << c.artifact.digest.Hex() << "  " << Bytes(c.artifact.size)
              << (projects.empty() ? "  (never granted to a project)" : "  was in: " + projects)
              << where << "\n";
  }
  std::cout << "kept: " << plan.kept_by_history << " named by a commit of a branch or tag, "
            << plan.kept_by_runs << " named by a run, " << plan.kept_young << " younger than "
            << args.grace_hours << " h\n";
  if (!args.remove) {
    std::cout << "dry run: nothing deleted (kiln gc --delete deletes them)\n";
    return Status::Ok();
  }
  if (plan.garbage.empty()) return Status::Ok();
  if (!args.yes) {
    if (!isatty(0)) {
      return FailedPrecondition(
          "kiln gc --delete asks before deleting: add --yes when not run "
          "from a terminal");
    }
    std::cout << "Delete these " << plan.garbage.size() << " artifacts ("
              << Bytes(plan.garbage_bytes) << ")? [y/N] " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "y" && answer != "yes") {
      std::cout << "nothing deleted\n";
      return Status::Ok();
    }
  }
  std::set<Digest> digests;
  for (const GcCandidate& c : plan.garbage) digests.insert(c.artifact.digest);
  size_t step = std::max<size_t>(1, digests.size() / 10);
  KILN_ASSIGN_OR_RETURN(
      GcDeleted done,
      DeleteGarbage(repo, *runs, *artifacts, digests, o, [&](size_t n, size_t total) {
        if (n % step == 0 || n == total) {
          std::cerr << "deleted " << n << " of " << total << "\n";
        }
      }));
  std::cout << "deleted " << done.deleted << " artifacts (" << Bytes(done.bytes) << ")";
  if (done.skipped)
    std::cout << "; " << done.skipped << " kept: referenced again since the listing";
  std::cout << "\n";
  return Status::Ok();
}

}  // namespace

void AddGcCommand(CLI::App& app, const std::string* data_dir, const std::string* config_path,
                  int* rc) {
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "gc", "Find artifacts nothing references any more; --delete removes them (docs/storage.md)");
  cmd->add_flag("--delete", args->remove, "Delete them (asks first; a dry run is the default)");
  cmd->add_flag("--yes", args->yes, "Do not ask (scripts)");
  cmd->add_option("--grace-hours", args->grace_hours,
                  "Keep anything stored or granted more recently than this")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->callback([=] {
    Status st = Run(*args, *data_dir, *config_path);
    if (!st.ok()) {
      std::cerr << "kiln gc: " << st.message() << "\n";
      *rc = 1;
    }
  });
}

}  // namespace kiln
