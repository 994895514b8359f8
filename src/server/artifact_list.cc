#include "server/artifact_list.h"

#include <map>
#include <sstream>

namespace kiln {
namespace {

using json = nlohmann::json;

std::string StringAttr(const NodeRef& n, std::string_view name) {
  const Value* v = n.Attr(name);
  return v && v->is_string() ? v->as_string() : "";
}

int64_t IntAttr(const NodeRef& n, std::string_view name) {
  const Value* v = n.Attr(name);
  return v && v->is_int() ? v->as_int() : 0;
}

std::string PipelineName(const Tree& tree, const std::string& pipeline) {
  auto node = tree.Find(pipeline);
  return node ? node->Name() : pipeline;
}

json JobOrigin(const Tree& tree, const ProjectJobOutputs& o, const std::string& output) {
  return {{"kind", "job"},
          {"pipeline", o.pipeline},
          {"pipeline_name", PipelineName(tree, o.pipeline)},
          {"execution", o.execution},
          {"job", o.job},
          {"job_name", o.job_name},
          {"output", output},
          {"created_ms", o.finished_ms}};
}

// The value of a small JSON artifact; null when it is not one or unreadable.
json InlineValue(ArtifactStore& store, const std::string& serializer, const std::string& hex,
                 uint64_t size) {
  if (serializer != "json" || size > kInlineValueBytes) return nullptr;
  Result<Digest> d = Digest::FromHex(hex);
  if (!d.ok()) return nullptr;
  std::ostringstream bytes;
  if (!store.GetToStream(*d, bytes).ok()) return nullptr;
  json v = json::parse(bytes.str(), nullptr, /*allow_exceptions=*/false);
  return v.is_discarded() ? json(nullptr) : v;
}

}  // namespace

Result<json> ListArtifacts(const Tree& tree, const std::vector<ProjectJobOutputs>& outputs,
                           ArtifactStore& store, const ArtifactFilter& filter, StorageSet* stores) {
  // Jobs by id, to name the origin of the model's Artifact nodes.
  std::map<std::string, const ProjectJobOutputs*> jobs;
  for (const ProjectJobOutputs& o : outputs) jobs.emplace(o.job, &o);

  json list = json::array();
  std::map<std::string, size_t> by_digest;  // digest → index in list
  for (NodeId id : tree.NodeIds()) {
    NodeRef n = tree.Get(id);
    if (n.IsMeta() || !n.IsA("Artifact")) continue;
    std::string digest = StringAttr(n, "digest");
    json a = {{"guid", std::string(n.guid())},
              {"name", n.Name()},
              {"digest", digest},
              {"size", IntAttr(n, "size")},
              {"serializer", StringAttr(n, "serializer")}};
    std::string job = StringAttr(n, "job");
    if (!job.empty()) {
      auto it = jobs.find(job);
      a["origin"] =
          it != jobs.end()
              ? JobOrigin(tree, *it->second, n.Name())
              : json{{"kind", "job"}, {"job", job}, {"execution", StringAttr(n, "execution")}};
    } else {
      a["origin"] = {{"kind", "upload"},
                     {"user", StringAttr(n, "uploaded_by")},
                     {"created_ms", IntAttr(n, "uploaded_ms")}};
    }
    by_digest.emplace(digest, list.size());
    list.push_back(std::move(a));
  }
  for (const ProjectJobOutputs& o : outputs) {
    for (const auto& [name, ref] : o.outputs) {
      std::string digest = ref.digest.Hex();
      if (by_digest.count(digest)) continue;  // newest origin first; the model's node wins
      by_digest.emplace(digest, list.size());
      list.push_back({{"guid", nullptr},
                      {"name", name},
                      {"digest", digest},
                      {"size", int64_t(ref.size)},
                      {"serializer", ref.serializer},
                      {"origin", JobOrigin(tree, o, name)}});
    }
  }

  json out = json::array();
  for (json& a : list) {
    if (!filter.kind.empty() && a["serializer"] != filter.kind) continue;
    if (!filter.pipeline.empty()) {
      const json& origin = a["origin"];
      if (origin.value("pipeline", "") != filter.pipeline &&
          origin.value("pipeline_name", "") != filter.pipeline) {
        continue;
      }
    }
    json v = InlineValue(store, a["serializer"].get<std::string>(), a["digest"].get<std::string>(),
                         a["size"].get<uint64_t>());
    if (!v.is_null()) a["value"] = std::move(v);
    out.push_back(std::move(a));
  }
  if (stores) {
    // Where each one lives: with one backend, no question to ask it (an S3
    // HEAD per artifact); with several, asked of them in parallel.
    std::vector<Digest> digests;
    std::vector<size_t> at;  // index in `out` of digests[i]
    for (size_t i = 0; i < out.size(); ++i) {
      out[i]["stores"] = json::array();
      Result<Digest> d = Digest::FromHex(out[i]["digest"].get<std::string>());
      if (!d.ok()) continue;
      if (stores->Backends().size() == 1) {
        out[i]["stores"].push_back(stores->DefaultName());
      } else {
        digests.push_back(*d);
        at.push_back(i);
      }
    }
    KILN_ASSIGN_OR_RETURN(auto where, stores->WhereMany(digests));
    for (size_t i = 0; i < where.size(); ++i) out[at[i]]["stores"] = where[i];
  }
  return out;
}

}  // namespace kiln
