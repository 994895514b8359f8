#include "cli/sweep_command.h"

#include <chrono>
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli/remote.h"

namespace kiln {
namespace {

using json = nlohmann::json;

struct Args {
  std::string project, pipeline, branch = "main", backend;
  std::vector<std::string> sets;
  int64_t random = 0;
  int64_t seed = 0;
  bool wait = false;
};

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, sep);) out.push_back(part);
  return out;
}

// "lr=0.001,0.01" → {"name": "lr", "values": [0.001, 0.01]};
// "epochs=2:10:3" → {"name": "epochs", "range": {"min": 2, "max": 10, "steps": 3}}.
Result<json> Parameter(const std::string& set, bool random) {
  size_t eq = set.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == set.size()) {
    return InvalidArgument("--set takes NAME=VALUES (lr=0.001,0.01 or epochs=2:10:3), not '" + set +
                           "'");
  }
  json p = {{"name", set.substr(0, eq)}};
  std::string values = set.substr(eq + 1);
  std::vector<std::string> range = Split(values, ':');
  if (range.size() == 2 || range.size() == 3) {
    json r;
    for (size_t i = 0; i < range.size(); ++i) {
      json v = json::parse(range[i], nullptr, false);
      if (!v.is_number()) return InvalidArgument("a range is min:max:steps of numbers: " + values);
      r[i == 0 ? "min" : i == 1 ? "max" : "steps"] = v;
    }
    if (range.size() == 2 && !random) {
      return InvalidArgument("a grid over " + values + " needs steps: min:max:steps");
    }
    p["range"] = r;
    return p;
  }
  json list = json::array();
  for (const std::string& item : Split(values, ',')) {
    json v = json::parse(item, nullptr, false);
    list.push_back(v.is_discarded() ? json(item) : v);
  }
  p["values"] = list;
  return p;
}

void PrintTable(const json& sweep) {
  std::vector<std::string> values, metrics;
  for (const json& t : sweep["trials"]) {
    for (const auto& [k, v] : t["values"].items()) {
      if (std::find(values.begin(), values.end(), k) == values.end()) values.push_back(k);
    }
    for (const auto& [k, v] : t["metrics"].items()) {
      if (std::find(metrics.begin(), metrics.end(), k) == metrics.end()) metrics.push_back(k);
    }
  }
  std::cout << std::left << std::setw(6) << "trial" << std::setw(11) << "state";
  for (const auto& k : values) std::cout << std::setw(int(std::max<size_t>(14, k.size() + 2))) << k;
  for (const auto& k : metrics)
    std::cout << std::setw(int(std::max<size_t>(14, k.size() + 2))) << k;
  std::cout << "\n";
  for (const json& t : sweep["trials"]) {
    std::cout << std::setw(6) << t["index"].get<int64_t>() << std::setw(11)
              << t["state"].get<std::string>();
    for (const auto& k : values) {
      std::cout << std::setw(int(std::max<size_t>(14, k.size() + 2)))
                << (t["values"].contains(k) ? t["values"][k].dump() : "");
    }
    for (const auto& k : metrics) {
      std::ostringstream v;
      if (t["metrics"].contains(k)) v << t["metrics"][k].get<double>();
      std::cout << std::setw(int(std::max<size_t>(14, k.size() + 2))) << v.str();
    }
    std::cout << "\n";
  }
}

int Sweep(RemoteClient& remote, const Args& a) {
  auto fail = [](const Status& s) {
    std::cerr << "kiln sweep: " << s.message() << "\n";
    return 1;
  };
  Result<std::string> pipeline = FindPipeline(remote, a.project, a.branch, a.pipeline);
  if (!pipeline.ok()) return fail(pipeline.status());
  json body = {{"pipeline", *pipeline}, {"ref", a.branch}, {"parameters", json::array()}};
  for (const std::string& set : a.sets) {
    Result<json> p = Parameter(set, a.random > 0);
    if (!p.ok()) return fail(p.status());
    body["parameters"].push_back(*p);
  }
  if (!a.backend.empty()) body["backend"] = a.backend;
  if (a.random > 0) {
    body["mode"] = "random";
    body["samples"] = a.random;
    body["seed"] = a.seed;
  }
  auto started =
      remote.Call("POST", "/api/v1/projects/" + UrlSegment(a.project) + "/sweeps", &body);
  if (!started.ok()) return fail(started.status());
  std::string id = (*started)["id"];
  std::cout << "sweep " << id << ": " << (*started)["trials"].get<int64_t>() << " trials of "
            << a.pipeline << " at " << a.branch << "\n";
  if (!a.wait) return 0;
  for (;;) {
    auto s = remote.Call("GET", "/api/v1/sweeps/" + UrlSegment(id));
    if (!s.ok()) return fail(s.status());
    if ((*s)["state"] != "running") {
      PrintTable(*s);
      std::cout << "sweep " << (*s)["state"].get<std::string>() << "\n";
      return (*s)["state"] == "succeeded" ? 0 : 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

}  // namespace

void AddSweepCommand(CLI::App& app, const RemoteOptions& remote, int* rc) {
  auto* cmd = app.add_subcommand("sweep", "Run a pipeline over several attribute values (a sweep)");
  auto args = std::make_shared<Args>();
  cmd->add_option("project", args->project)->required();
  cmd->add_option("pipeline", args->pipeline, "The pipeline's name or guid")->required();
  cmd->add_option("--set", args->sets,
                  "NAME=VALUES: lr=0.001,0.01 or Train.epochs=2:10:3 (min:max:steps)")
      ->required();
  cmd->add_option("--random", args->random, "N random trials instead of the grid");
  cmd->add_option("--seed", args->seed, "Seed of the random trials")->capture_default_str();
  cmd->add_option("--branch,-b", args->branch, "Branch (or tag, commit)")->capture_default_str();
  cmd->add_option("--backend", args->backend, "Where the trials' jobs run (kiln backends)");
  cmd->add_flag("--wait,-w", args->wait, "Follow it and print the trials' table at the end");
  remote.add_flags(cmd);
  cmd->callback([args, remote, rc] {
    RemoteClient client(*remote.server, *remote.token);
    *rc = Sweep(client, *args);
  });
}

}  // namespace kiln
