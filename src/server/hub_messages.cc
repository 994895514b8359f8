#include "server/hub_messages.h"

#include <nlohmann/json.hpp>

#include "core/guid.h"
#include "core/value.h"

namespace kiln {
namespace {

Result<std::string> StringField(const nlohmann::json& j, const char* key, bool required) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (required) return InvalidArgument(std::string("message lacks '") + key + "'");
    return std::string();
  }
  if (!it->is_string()) return InvalidArgument(std::string("'") + key + "' must be a string");
  return it->get<std::string>();
}

}  // namespace

Result<ClientMessage> ParseClientMessage(std::string_view text) {
  KILN_RETURN_IF_ERROR(Value::CheckJsonIntegers(text));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument("message is not valid JSON");
  if (!j.is_object()) return InvalidArgument("message must be a JSON object");
  KILN_ASSIGN_OR_RETURN(std::string type, StringField(j, "type", true));
  ClientMessage m;
  KILN_ASSIGN_OR_RETURN(m.client, StringField(j, "client", false));
  if (m.client.size() > 128) return InvalidArgument("'client' is longer than 128 characters");
  if (type == "ping") {
    m.type = ClientMessageType::kPing;
    return m;
  }
  if (type == "watch" || type == "unwatch") {
    m.type = type == "watch" ? ClientMessageType::kWatch : ClientMessageType::kUnwatch;
    KILN_ASSIGN_OR_RETURN(m.execution, StringField(j, "execution", true));
    if (m.execution.empty() || m.execution.size() > 128) {
      return InvalidArgument("'execution' must be an execution id");
    }
    return m;
  }
  if (type == "subscribe") {
    m.type = ClientMessageType::kSubscribe;
  } else if (type == "unsubscribe") {
    m.type = ClientMessageType::kUnsubscribe;
  } else if (type == "patch") {
    m.type = ClientMessageType::kPatch;
  } else if (type == "select") {
    m.type = ClientMessageType::kSelect;
  } else {
    return InvalidArgument("unknown message type '" + type + "'");
  }
  KILN_ASSIGN_OR_RETURN(m.project, StringField(j, "project", true));
  KILN_ASSIGN_OR_RETURN(m.branch, StringField(j, "branch", true));

  if (m.type == ClientMessageType::kSubscribe) {
    KILN_ASSIGN_OR_RETURN(std::string since, StringField(j, "since", false));
    if (!since.empty()) {
      Result<Digest> d = Digest::FromHex(since);
      if (!d.ok()) return InvalidArgument("'since' must be a commit digest (64 hex digits)");
      m.since = *d;
    }
  } else if (m.type == ClientMessageType::kPatch) {
    auto seq = j.find("seq");
    if (seq == j.end() || !seq->is_number_integer()) {
      return InvalidArgument("a patch message needs an integer 'seq'");
    }
    m.seq = seq->get<int64_t>();
    nlohmann::json patch = nlohmann::json::object();
    for (const char* key : {"base", "message", "ops"}) {
      if (j.contains(key)) patch[key] = j[key];
    }
    KILN_ASSIGN_OR_RETURN(m.patch, PatchFromJson(patch));
  } else if (m.type == ClientMessageType::kSelect) {
    auto nodes = j.find("nodes");
    if (nodes == j.end() || !nodes->is_array()) {
      return InvalidArgument("a select message needs a 'nodes' array");
    }
    if (nodes->size() > 10000) return InvalidArgument("too many selected nodes");
    for (const auto& n : *nodes) {
      if (!n.is_string() || !IsGuid(n.get<std::string>())) {
        return InvalidArgument("'nodes' holds something that is not a guid");
      }
      m.nodes.push_back(n.get<std::string>());
    }
  }
  return m;
}

std::string ErrorMessage(const Status& status, const std::string& project,
                         const std::string& branch, const std::string& client,
                         std::optional<int64_t> seq) {
  nlohmann::json j = {
      {"type", seq ? "reject" : "error"},
      {"error", {{"code", CodeName(status.code())}, {"message", status.message()}}}};
  if (!project.empty()) j["project"] = project;
  if (!branch.empty()) j["branch"] = branch;
  if (!client.empty()) j["client"] = client;
  if (seq) j["seq"] = *seq;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace kiln
