#include "provenance/lineage_json.h"

#include <cstdio>
#include <ctime>
#include <string_view>

namespace kiln {
namespace {

using json = nlohmann::json;

// The lineage's JSON is written as text, not built as a json value: a
// 10,000-job lineage is megabytes, and building it node by node cost more
// than the walk (bench/provenance_bench).
class Writer {
 public:
  std::string text;

  void Raw(std::string_view s) { text += s; }
  void Str(std::string_view s) {
    text += '"';
    for (char c : s) {
      switch (c) {
        case '"':
          text += "\\\"";
          break;
        case '\\':
          text += "\\\\";
          break;
        case '\n':
          text += "\\n";
          break;
        case '\r':
          text += "\\r";
          break;
        case '\t':
          text += "\\t";
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\u%04x", unsigned(c));
            text += buf;
          } else {
            text += c;
          }
      }
    }
    text += '"';
  }
  void Int(int64_t v) { text += std::to_string(v); }
  // "key": — with a comma before every key but an object's first.
  void Key(std::string_view key, bool first = false) {
    if (!first) text += ',';
    Str(key);
    text += ':';
  }
  // JSON text this program wrote itself (snapshots, runtimes); {} if empty.
  void Json(const std::string& stored) { text += stored.empty() ? "{}" : stored; }
};

void WriteOrigin(Writer& w, const LineageArtifact& a) {
  if (!a.job.empty()) {
    w.Raw("{\"kind\":\"job\",\"job\":");
    w.Str(a.job);
    w.Raw(",\"output\":");
    w.Str(a.output);
    w.Raw("}");
    return;
  }
  if (!a.grant || a.grant->how == "job") return w.Raw("{\"kind\":\"unknown\"}");
  w.Raw("{\"kind\":");
  w.Str(a.grant->how);
  w.Key("created_ms");
  w.Int(a.grant->created_ms);
  if (!a.grant->user.empty()) {
    w.Key("user");
    w.Str(a.grant->user);
  }
  if (!a.grant->source.empty()) {
    w.Key("source");
    w.Str(a.grant->source);
  }
  w.Raw("}");
}

void WriteJob(Writer& w, const LineageJob& j) {
  const ProvenanceRecord& r = j.producer->record;
  w.Raw("{");
  w.Key("id", true);
  w.Str(r.job);
  w.Key("execution");
  w.Str(r.execution);
  w.Key("pipeline");
  w.Str(j.producer->pipeline);
  w.Key("commit");
  w.Str(j.producer->commit.Hex());
  w.Key("node");
  w.Str(j.producer->node);
  w.Key("name");
  w.Str(j.producer->job_name);
  w.Key("state");
  w.Str(j.producer->state);
  w.Key("operation");
  w.Int(int64_t(j.operation));
  w.Key("inputs");
  w.Raw("{");
  bool first = true;
  for (const auto& [name, d] : r.inputs) {
    w.Key(name, first);
    first = false;
    w.Str(d.Hex());
  }
  w.Raw("}");
  w.Key("outputs");
  w.Raw("{");
  first = true;
  for (const auto& [name, o] : j.producer->outputs) {
    w.Key(name, first);
    first = false;
    w.Str(o.digest.Hex());
  }
  w.Raw("}");
  w.Key("runtime");
  w.Json(r.runtime);
  w.Key("started_ms");
  w.Int(r.started_ms);
  w.Key("created_ms");
  w.Int(r.created_ms);
  w.Key("finished_ms");
  w.Int(j.producer->finished_ms);
  w.Key("cached_from");
  if (j.cached_from_other_project) {
    w.Raw("{\"other_project\":true}");
  } else if (!r.cached_from.empty()) {
    w.Raw("{\"job\":");
    w.Str(r.cached_from);
    w.Raw(",\"execution\":");
    w.Str(j.cached_from_execution);
    w.Raw("}");
  } else {
    w.Raw("null");
  }
  w.Key("level");
  w.Int(j.level);
  w.Raw("}");
}

void WriteEdges(Writer& w, const std::vector<LineageEdge>& edges, std::string_view port) {
  w.Raw("[");
  for (size_t i = 0; i < edges.size(); ++i) {
    if (i) w.Raw(",");
    w.Raw("{\"job\":");
    w.Str(edges[i].job);
    w.Key(port);
    w.Str(edges[i].port);
    w.Key("artifact");
    w.Str(edges[i].artifact.Hex());
    w.Raw("}");
  }
  w.Raw("]");
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

std::string LineageToJson(const LineageGraph& g, const std::map<Digest, std::string>& names) {
  Writer w;
  w.text.reserve(1024 + g.jobs.size() * 900);
  w.Raw("{");
  w.Key("project", true);
  w.Str(g.query.project);
  w.Key("artifact");
  w.Str(g.query.artifact.Hex());
  w.Key("direction");
  w.Str(LineageDirectionName(g.query.direction));
  w.Key("depth");
  w.Int(g.query.depth);
  w.Key("truncated");
  w.Raw(g.truncated ? "true" : "false");
  w.Key("artifacts");
  w.Raw("[");
  for (size_t i = 0; i < g.artifacts.size(); ++i) {
    const LineageArtifact& a = g.artifacts[i];
    if (i) w.Raw(",");
    w.Raw("{\"digest\":");
    w.Str(a.digest.Hex());
    w.Key("level");
    w.Int(a.level);
    w.Key("origin");
    WriteOrigin(w, a);
    if (a.ref) {
      w.Key("size");
      w.Int(int64_t(a.ref->size));
      w.Key("serializer");
      w.Str(a.ref->serializer);
    }
    if (auto it = names.find(a.digest); it != names.end()) {
      w.Key("name");
      w.Str(it->second);
    }
    w.Raw("}");
  }
  w.Raw("]");
  w.Key("jobs");
  w.Raw("[");
  for (size_t i = 0; i < g.jobs.size(); ++i) {
    if (i) w.Raw(",");
    WriteJob(w, g.jobs[i]);
  }
  w.Raw("]");
  w.Key("operations");
  w.Raw("[");
  for (size_t i = 0; i < g.operations.size(); ++i) {
    if (i) w.Raw(",");
    w.Json(g.operations[i]);
  }
  w.Raw("]");
  w.Key("used");
  WriteEdges(w, g.used, "input");
  w.Key("generated");
  WriteEdges(w, g.generated, "output");
  w.Raw("}");
  return std::move(w.text);
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
    const ProvenanceRecord& r = j.producer->record;
    json op = json::parse(g.operations[j.operation], nullptr, false);
    json act = {
        {"prov:type", "kiln:Job"},
        {"prov:label", j.producer->job_name},
        {"prov:startTime", IsoTime(r.started_ms)},
        {"prov:endTime", IsoTime(j.producer->finished_ms ? j.producer->finished_ms : r.created_ms)},
        {"kiln:execution", r.execution},
        {"kiln:commit", j.producer->commit.Hex()},
        {"kiln:state", j.producer->state},
        {"kiln:runtime", r.runtime}};
    if (op.is_object()) {
      act["kiln:operation"] = op.value("name", "");
      act["kiln:code"] = op.value("code", "");
      act["kiln:attributes"] = op.value("attributes", json::object()).dump();
    }
    activity["job:" + r.job] = std::move(act);
    if (!j.producer->user.empty()) {
      agent["user:" + j.producer->user] = {{"prov:type", "prov:Person"}};
      associated["_:associated" + std::to_string(associated.size())] = {
          {"prov:activity", "job:" + r.job}, {"prov:agent", "user:" + j.producer->user}};
    }
    if (!r.cached_from.empty() && !j.cached_from_other_project) {
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
