#include "provenance/lineage_json.h"

#include <ctime>

namespace kiln {
namespace {

using json = nlohmann::json;

json Origin(const LineageArtifact& a) {
  if (!a.job.empty()) return {{"kind", "job"}, {"job", a.job}, {"output", a.output}};
  if (!a.grant || a.grant->how == "job") return {{"kind", "unknown"}};
  json o = {{"kind", a.grant->how}, {"created_ms", a.grant->created_ms}};
  if (!a.grant->user.empty()) o["user"] = a.grant->user;
  if (!a.grant->source.empty()) o["source"] = a.grant->source;
  return o;
}

json DigestMap(const std::map<std::string, Digest>& m) {
  json out = json::object();
  for (const auto& [name, d] : m) out[name] = d.Hex();
  return out;
}

json JobJson(const LineageJob& j) {
  const ProvenanceRecord& r = j.producer.record;
  json outputs = json::object();
  for (const auto& [name, o] : j.producer.outputs) outputs[name] = o.digest.Hex();
  json runtime = json::parse(r.runtime, nullptr, false);
  if (!runtime.is_object()) runtime = json::object();
  json cached_from = nullptr;
  if (j.cached_from_other_project) {
    cached_from = {{"other_project", true}};
  } else if (!r.cached_from.empty()) {
    cached_from = {{"job", r.cached_from}, {"execution", j.cached_from_execution}};
  }
  return {{"id", r.job},
          {"execution", r.execution},
          {"pipeline", j.producer.pipeline},
          {"commit", j.producer.commit.Hex()},
          {"node", j.producer.node},
          {"name", j.producer.job_name},
          {"state", j.producer.state},
          {"operation", j.operation},
          {"inputs", DigestMap(r.inputs)},
          {"outputs", outputs},
          {"runtime", runtime},
          {"started_ms", r.started_ms},
          {"created_ms", r.created_ms},
          {"finished_ms", j.producer.finished_ms},
          {"cached_from", cached_from},
          {"level", j.level}};
}

json Edges(const std::vector<LineageEdge>& edges, const char* port) {
  json out = json::array();
  for (const LineageEdge& e : edges) {
    out.push_back({{"job", e.job}, {port, e.port}, {"artifact", e.artifact.Hex()}});
  }
  return out;
}

// xsd:dateTime in UTC with milliseconds.
std::string IsoTime(int64_t ms) {
  std::time_t secs = std::time_t(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof(out), "%s.%03dZ", buf, int(ms % 1000));
  return out;
}

}  // namespace

json LineageToJson(const LineageGraph& g, const std::map<Digest, std::string>& names) {
  json artifacts = json::array();
  for (const LineageArtifact& a : g.artifacts) {
    json item = {{"digest", a.digest.Hex()}, {"level", a.level}, {"origin", Origin(a)}};
    if (a.ref) {
      item["size"] = a.ref->size;
      item["serializer"] = a.ref->serializer;
    }
    if (auto it = names.find(a.digest); it != names.end()) item["name"] = it->second;
    artifacts.push_back(std::move(item));
  }
  json jobs = json::array();
  for (const LineageJob& j : g.jobs) jobs.push_back(JobJson(j));
  json operations = json::array();
  for (const std::string& op : g.operations) {
    json parsed = json::parse(op, nullptr, false);
    operations.push_back(parsed.is_discarded() ? json::object() : std::move(parsed));
  }
  return {{"project", g.query.project},
          {"artifact", g.query.artifact.Hex()},
          {"direction", LineageDirectionName(g.query.direction)},
          {"depth", g.query.depth},
          {"truncated", g.truncated},
          {"artifacts", std::move(artifacts)},
          {"jobs", std::move(jobs)},
          {"operations", std::move(operations)},
          {"used", Edges(g.used, "input")},
          {"generated", Edges(g.generated, "output")}};
}

json LineageToProv(const LineageGraph& g, const std::map<Digest, std::string>& names) {
  json entity = json::object(), activity = json::object(), agent = json::object();
  json used = json::object(), generated = json::object(), attributed = json::object();
  json associated = json::object(), informed = json::object();
  for (const LineageArtifact& a : g.artifacts) {
    json e = {{"prov:type", "kiln:Artifact"}, {"kiln:digest", a.digest.Hex()}};
    if (a.ref) {
      e["kiln:size"] = a.ref->size;
      e["kiln:serializer"] = a.ref->serializer;
    }
    if (auto it = names.find(a.digest); it != names.end()) e["prov:label"] = it->second;
    if (a.job.empty() && a.grant && a.grant->how != "job") {
      e["kiln:origin"] = a.grant->how;
      if (!a.grant->source.empty()) e["kiln:source"] = a.grant->source;
      if (!a.grant->user.empty()) {
        agent["user:" + a.grant->user] = {{"prov:type", "prov:Person"}};
        attributed["_:attributed" + std::to_string(attributed.size())] = {
            {"prov:entity", "artifact:" + a.digest.Hex()}, {"prov:agent", "user:" + a.grant->user}};
      }
    }
    entity["artifact:" + a.digest.Hex()] = std::move(e);
  }
  for (const LineageJob& j : g.jobs) {
    const ProvenanceRecord& r = j.producer.record;
    json op = json::parse(g.operations[j.operation], nullptr, false);
    json act = {
        {"prov:type", "kiln:Job"},
        {"prov:label", j.producer.job_name},
        {"prov:startTime", IsoTime(r.started_ms)},
        {"prov:endTime", IsoTime(j.producer.finished_ms ? j.producer.finished_ms : r.created_ms)},
        {"kiln:execution", r.execution},
        {"kiln:commit", j.producer.commit.Hex()},
        {"kiln:state", j.producer.state},
        {"kiln:runtime", r.runtime}};
    if (op.is_object()) {
      act["kiln:operation"] = op.value("name", "");
      act["kiln:code"] = op.value("code", "");
      act["kiln:attributes"] = op.value("attributes", json::object()).dump();
    }
    activity["job:" + r.job] = std::move(act);
    if (!j.producer.user.empty()) {
      agent["user:" + j.producer.user] = {{"prov:type", "prov:Person"}};
      associated["_:associated" + std::to_string(associated.size())] = {
          {"prov:activity", "job:" + r.job}, {"prov:agent", "user:" + j.producer.user}};
    }
    if (!r.cached_from.empty()) {
      informed["_:informed" + std::to_string(informed.size())] = {
          {"prov:informed", "job:" + r.job}, {"prov:informant", "job:" + r.cached_from}};
    }
  }
  for (const LineageEdge& e : g.used) {
    used["_:used" + std::to_string(used.size())] = {{"prov:activity", "job:" + e.job},
                                                    {"prov:entity", "artifact:" + e.artifact.Hex()},
                                                    {"prov:role", "kiln:" + e.port}};
  }
  for (const LineageEdge& e : g.generated) {
    generated["_:generated" + std::to_string(generated.size())] = {
        {"prov:entity", "artifact:" + e.artifact.Hex()},
        {"prov:activity", "job:" + e.job},
        {"prov:role", "kiln:" + e.port}};
  }
  json doc = {{"prefix",
               {{"kiln", "https://kiln.dev/ns#"},
                {"artifact", "urn:kiln:artifact:"},
                {"job", "urn:kiln:job:"},
                {"user", "urn:kiln:user:"}}},
              {"entity", entity},
              {"activity", activity},
              {"used", used},
              {"wasGeneratedBy", generated}};
  if (!agent.empty()) doc["agent"] = agent;
  if (!attributed.empty()) doc["wasAttributedTo"] = attributed;
  if (!associated.empty()) doc["wasAssociatedWith"] = associated;
  if (!informed.empty()) doc["wasInformedBy"] = informed;
  return doc;
}

}  // namespace kiln
