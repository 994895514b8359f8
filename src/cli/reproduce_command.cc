#include "cli/reproduce_command.h"

#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/remote.h"

namespace kiln {
namespace {

using json = nlohmann::json;

constexpr int kMatched = 0, kFailed = 1, kDiffers = 4;

int Fail(const Status& s) {
  std::cerr << "kiln reproduce: " << s.message() << "\n";
  return kFailed;
}

std::string Short(const std::string& digest) { return digest.substr(0, 12); }

int Reproduce(RemoteClient& remote, const std::string& project, const std::string& digest,
              std::string branch) {
  std::string base = "/api/v1/projects/" + UrlSegment(project);
  // A new branch: the first free reproduce/<digest12>-<n>.
  Result<json> reified = NotFound("");
  for (int n = 1; n <= 1000; ++n) {
    std::string name =
        branch.empty() ? "reproduce/" + Short(digest) + "-" + std::to_string(n) : branch;
    json body = {{"branch", name}};
    reified = remote.Call("POST", base + "/artifacts/" + UrlSegment(digest) + "/reify", &body);
    if (reified.ok() || reified.status().code() != Code::kConflict || !branch.empty()) {
      branch = name;
      break;
    }
  }
  if (!reified.ok()) return Fail(reified.status());
  std::cout << "reified " << Short(digest) << " onto branch " << branch << " ("
            << (*reified)["jobs"].size() << " jobs)\n";
  for (const json& note : (*reified)["notes"])
    std::cout << "  note: " << note.get<std::string>() << "\n";

  json run = {{"pipeline", (*reified)["pipeline"]}, {"ref", branch}, {"force", true}};
  auto started = remote.Call("POST", base + "/executions", &run);
  if (!started.ok()) return Fail(started.status());
  std::string id = (*started)["id"];
  std::cout << "running it past the cache: execution " << id << "\n";
  json execution;
  std::map<std::string, std::string> shown;
  for (;;) {
    auto e = remote.Call("GET", "/api/v1/executions/" + id);
    if (!e.ok()) return Fail(e.status());
    for (const json& j : (*e)["jobs"]) {
      std::string state = j["state"];
      if (shown[j["id"]] != state && state != "pending" && state != "queued") {
        shown[j["id"]] = state;
        std::cout << "  [" << state << "] " << j["name"].get<std::string>() << "\n";
      }
    }
    if ((*e)["state"] != "running") {
      execution = *e;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  if (execution["state"] != "succeeded") {
    std::cout << "execution " << execution["state"].get<std::string>() << ": "
              << execution["reason"].get<std::string>() << "\n";
    return kFailed;
  }
  // Per reified job: its outputs against the original job's.
  const json& originals = (*reified)["jobs"];
  int matched = 0, differed = 0;
  std::cout << "\n";
  for (const json& j : execution["jobs"]) {
    auto original_id = originals.find(j["node"].get<std::string>());
    if (original_id == originals.end()) continue;  // Inputs and the Output
    auto original = remote.Call("GET", "/api/v1/jobs/" + UrlSegment(*original_id));
    if (!original.ok()) return Fail(original.status());
    for (const auto& [output, was] : (*original)["outputs"].items()) {
      std::string before = was["digest"];
      std::string now =
          j["outputs"].contains(output) ? j["outputs"][output].value("digest", "") : std::string();
      bool same = before == now;
      (same ? matched : differed)++;
      std::cout << "  " << j["name"].get<std::string>() << "." << output << "  " << Short(before)
                << (same ? "  matched" : "  DIFFERS: now " + (now.empty() ? "missing" : Short(now)))
                << "\n";
    }
  }
  std::cout << "\n" << matched << " output(s) matched, " << differed << " differ\n";
  return differed ? kDiffers : kMatched;
}

}  // namespace

void AddReproduceCommand(CLI::App& app, const RemoteOptions& remote, int* rc) {
  auto* cmd = app.add_subcommand(
      "reproduce", "Re-make an artifact from its provenance, past the cache, and compare digests");
  // The callback outlives this function: it holds the parsed arguments.
  struct Args {
    std::string project, digest, branch;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("digest", args->digest, "The artifact's digest")->required();
  cmd->add_option("--project,-p", args->project, "The project that has it")->required();
  cmd->add_option("--branch,-b", args->branch,
                  "The new branch for the pipeline (default reproduce/<digest12>-<n>)");
  remote.add_flags(cmd);
  cmd->callback([args, remote, rc] {
    RemoteClient client(*remote.server, *remote.token);
    *rc = Reproduce(client, args->project, args->digest, args->branch);
  });
}

}  // namespace kiln
