// The collaboration protocol's messages (docs/protocol.md): decoding what a
// client sends, and encoding what the server sends. Decoding is strict and
// never throws: any malformed message gives InvalidArgument with a reason.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/digest.h"
#include "core/status.h"
#include "model/patch.h"

namespace kiln {

enum class ClientMessageType { kSubscribe, kUnsubscribe, kPatch, kSelect, kPing, kWatch, kUnwatch };

struct ClientMessage {
  ClientMessageType type = ClientMessageType::kPing;
  std::string project, branch;
  std::optional<Digest> since;     // subscribe: the commit the client already has
  std::string client;              // the client's id (defaults to the connection id)
  int64_t seq = 0;                 // patch: the client's sequence number
  Patch patch;                     // patch
  std::vector<std::string> nodes;  // select
  std::string execution;           // watch, unwatch
};

Result<ClientMessage> ParseClientMessage(std::string_view text);

// {"type":"error","error":{"code","message"}} plus optional context fields.
std::string ErrorMessage(const Status& status, const std::string& project = "",
                         const std::string& branch = "", const std::string& client = "",
                         std::optional<int64_t> seq = std::nullopt);

}  // namespace kiln
