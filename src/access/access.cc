#include "access/access.h"

#include <sodium.h>

#include "core/encoding.h"
#include "core/value.h"

namespace kiln {
namespace {

constexpr char kUserTag = 'U';
constexpr char kTokenTag = 'T';
constexpr char kRoleTag = 'R';

std::string UserRefName(const std::string& name) { return "users/" + name; }
std::string TokenRefName(const std::string& secret) { return "tokens/" + Digest::Of(secret).Hex(); }
std::string RoleRefName(const std::string& project, const std::string& user) {
  return "access/" + project + "/" + user;
}

// Records are tagged canonical maps (docs/access.md).
std::string Record(char tag, Value::Map fields) {
  return std::string(1, tag) + Value(std::move(fields)).Encode();
}

Result<Value::Map> ReadRecord(ObjectStore& store, const Digest& d, char tag) {
  KILN_ASSIGN_OR_RETURN(std::string bytes, store.Get(d));
  if (bytes.empty() || bytes[0] != tag)
    return Corruption("record " + d.Hex() + " has the wrong type");
  KILN_ASSIGN_OR_RETURN(Value v, Value::Decode(std::string_view(bytes).substr(1)));
  if (!v.is_map()) return Corruption("record " + d.Hex() + " is not a map");
  return v.as_map();
}

const Value& Field(const Value::Map& m, const char* key) {
  static const Value kNull;
  auto it = m.find(key);
  return it == m.end() ? kNull : it->second;
}

bool SodiumReady() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kNone:
      return "none";
    case Role::kRead:
      return "read";
    case Role::kWrite:
      return "write";
    case Role::kAdmin:
      return "admin";
  }
  return "none";
}

Result<Role> ParseRole(std::string_view name) {
  if (name == "read") return Role::kRead;
  if (name == "write") return Role::kWrite;
  if (name == "admin") return Role::kAdmin;
  if (name == "none") return Role::kNone;
  return InvalidArgument("unknown role '" + std::string(name) + "' (read, write, admin or none)");
}

Status ValidateUserName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name[0] == '.') {
    return InvalidArgument("a user name has 1 to 64 characters and does not start with '.'");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok)
      return InvalidArgument("user name '" + std::string(name) +
                             "' has a character outside [A-Za-z0-9_.-]");
  }
  return Status::Ok();
}

Result<std::optional<Digest>> Access::UserRef(const std::string& name) {
  KILN_RETURN_IF_ERROR(ValidateUserName(name));
  return store_.GetRef(UserRefName(name));
}

Status Access::AddUser(const std::string& name, const std::string& password, bool server_admin) {
  KILN_RETURN_IF_ERROR(ValidateUserName(name));
  if (name == kLocalUser) return InvalidArgument("'local' is reserved for the embedded default");
  if (password.size() < 8) return InvalidArgument("a password has at least 8 characters");
  if (!SodiumReady()) return Internal("libsodium failed to initialise");
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return ResourceExhausted("not enough memory to hash the password");
  }
  WriteBatch b;
  Digest d = b.Put(Record(kUserTag, {{"admin", server_admin},
                                     {"created", clock_.NowMillis()},
                                     {"name", name},
                                     {"password", std::string(hash)}}));
  b.UpdateRef({UserRefName(name), std::nullopt, d});
  Status s = store_.Write(b);
  if (s.code() == Code::kConflict) return AlreadyExists("user '" + name + "' exists");
  return s;
}

Result<UserInfo> Access::GetUser(const std::string& name) {
  KILN_ASSIGN_OR_RETURN(std::optional<Digest> ref, UserRef(name));
  if (!ref) return NotFound("no user '" + name + "'");
  KILN_ASSIGN_OR_RETURN(Value::Map m, ReadRecord(store_, *ref, kUserTag));
  UserInfo info;
  info.name = name;
  info.server_admin = Field(m, "admin").is_bool() && Field(m, "admin").as_bool();
  info.created_ms = Field(m, "created").is_int() ? Field(m, "created").as_int() : 0;
  return info;
}

Status Access::RemoveUser(const std::string& name) {
  KILN_ASSIGN_OR_RETURN(std::optional<Digest> ref, UserRef(name));
  if (!ref) return NotFound("no user '" + name + "'");
  WriteBatch b;
  b.UpdateRef({UserRefName(name), ref, std::nullopt});
  // Revoke the user's tokens and roles in the same batch.
  KILN_ASSIGN_OR_RETURN(auto tokens, store_.ListRefs("tokens/"));
  for (const auto& [refname, digest] : tokens) {
    Result<Value::Map> t = ReadRecord(store_, digest, kTokenTag);
    if (t.ok() && Field(*t, "user") == Value(name)) b.UpdateRef({refname, digest, std::nullopt});
  }
  KILN_ASSIGN_OR_RETURN(auto roles, store_.ListRefs("access/"));
  for (const auto& [refname, digest] : roles) {
    if (refname.ends_with("/" + name)) b.UpdateRef({refname, digest, std::nullopt});
  }
  KILN_RETURN_IF_ERROR(store_.Write(b));
  Revoked(name);
  return Status::Ok();
}

Result<std::vector<UserInfo>> Access::ListUsers() {
  KILN_ASSIGN_OR_RETURN(auto refs, store_.ListRefs("users/"));
  std::vector<UserInfo> out;
  for (const auto& [refname, digest] : refs) {
    KILN_ASSIGN_OR_RETURN(UserInfo u, GetUser(refname.substr(6)));
    out.push_back(std::move(u));
  }
  return out;
}

Result<std::string> Access::IssueSecret(const std::string& user, const std::string& label,
                                        bool session, int64_t expires_ms, bool worker) {
  if (!SodiumReady()) return Internal("libsodium failed to initialise");
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  std::string secret = std::string(worker ? "kiln_w_" : session ? "kiln_s_" : "kiln_t_") + hex;
  Value::Map fields = {{"created", clock_.NowMillis()},
                       {"expires", expires_ms},
                       {"label", label},
                       {"session", session},
                       {"user", user}};
  if (worker) fields["worker"] = true;
  WriteBatch b;
  Digest d = b.Put(Record(kTokenTag, std::move(fields)));
  b.UpdateRef({TokenRefName(secret), std::nullopt, d});
  KILN_RETURN_IF_ERROR(store_.Write(b));
  return secret;
}

Result<std::string> Access::CreateWorkerToken(const std::string& name) {
  KILN_RETURN_IF_ERROR(ValidateUserName(name).WithContext("worker name"));
  return IssueSecret("", name, false, 0, /*worker=*/true);
}

Result<std::string> Access::CreateToken(const std::string& user, const std::string& label) {
  KILN_ASSIGN_OR_RETURN(UserInfo u, GetUser(user));
  return IssueSecret(u.name, label, false, 0);
}

Result<std::string> Access::Login(const std::string& user, const std::string& password,
                                  int64_t ttl_ms) {
  Status bad = Status(Code::kUnauthenticated, "wrong user name or password");
  if (!ValidateUserName(user).ok()) return bad;
  KILN_ASSIGN_OR_RETURN(std::optional<Digest> ref, UserRef(user));
  if (!ref) return bad;
  KILN_ASSIGN_OR_RETURN(Value::Map m, ReadRecord(store_, *ref, kUserTag));
  const Value& hash = Field(m, "password");
  if (!hash.is_string() || !SodiumReady()) return Corruption("user record without a password hash");
  if (crypto_pwhash_str_verify(hash.as_string().c_str(), password.data(), password.size()) != 0) {
    return bad;
  }
  return IssueSecret(user, "browser session", true, clock_.NowMillis() + ttl_ms);
}

Status Access::Revoke(const std::string& secret) {
  KILN_ASSIGN_OR_RETURN(std::optional<Digest> ref, store_.GetRef(TokenRefName(secret)));
  if (!ref) return NotFound("no such token");
  Result<Value::Map> record = ReadRecord(store_, *ref, kTokenTag);
  WriteBatch b;
  b.UpdateRef({TokenRefName(secret), ref, std::nullopt});
  KILN_RETURN_IF_ERROR(store_.Write(b));
  if (record.ok() && Field(*record, "user").is_string() &&
      !Field(*record, "user").as_string().empty()) {
    Revoked(Field(*record, "user").as_string());
  }
  return Status::Ok();
}

Result<TokenInfo> Access::Authenticate(const std::string& secret) {
  Status bad = Status(Code::kUnauthenticated, "invalid or expired credentials");
  if (!secret.starts_with("kiln_")) return bad;
  KILN_ASSIGN_OR_RETURN(std::optional<Digest> ref, store_.GetRef(TokenRefName(secret)));
  if (!ref) return bad;
  KILN_ASSIGN_OR_RETURN(Value::Map m, ReadRecord(store_, *ref, kTokenTag));
  TokenInfo t;
  t.user = Field(m, "user").is_string() ? Field(m, "user").as_string() : "";
  t.label = Field(m, "label").is_string() ? Field(m, "label").as_string() : "";
  t.session = Field(m, "session").is_bool() && Field(m, "session").as_bool();
  t.created_ms = Field(m, "created").is_int() ? Field(m, "created").as_int() : 0;
  t.expires_ms = Field(m, "expires").is_int() ? Field(m, "expires").as_int() : 0;
  t.worker = Field(m, "worker").is_bool() && Field(m, "worker").as_bool();
  if (t.expires_ms && clock_.NowMillis() >= t.expires_ms) return bad;
  if (t.worker) return t;  // acts for no user
  if (!store_.GetRef(UserRefName(t.user)).ok()) return bad;
  return t;
}

Result<bool> Access::IsServerAdmin(const std::string& user) {
  if (user == kLocalUser) return true;
  Result<UserInfo> u = GetUser(user);
  if (!u.ok()) return u.status().code() == Code::kNotFound ? Result<bool>(false) : u.status();
  return u->server_admin;
}

Status Access::SetRole(const std::string& project, const std::string& user, Role role) {
  KILN_RETURN_IF_ERROR(ValidateUserName(user));
  std::string refname = RoleRefName(project, user);
  KILN_RETURN_IF_ERROR(ValidateRefName(refname));
  KILN_ASSIGN_OR_RETURN(std::optional<Digest> current, store_.GetRef(refname));
  Role before = Role::kNone;
  if (current) {
    Result<Value::Map> m = ReadRecord(store_, *current, kRoleTag);
    if (m.ok() && Field(*m, "role").is_string()) {
      Result<Role> r = ParseRole(Field(*m, "role").as_string());
      if (r.ok()) before = *r;
    }
  }
  WriteBatch b;
  if (role == Role::kNone) {
    if (!current) return Status::Ok();
    b.UpdateRef({refname, current, std::nullopt});
  } else {
    Digest d = b.Put(Record(kRoleTag, {{"role", RoleName(role)}}));
    b.UpdateRef({refname, current, d});
  }
  KILN_RETURN_IF_ERROR(store_.Write(b));
  if (role < before) Revoked(user);
  return Status::Ok();
}

Result<Role> Access::RoleOf(const std::string& project, const std::string& user) {
  KILN_ASSIGN_OR_RETURN(bool admin, IsServerAdmin(user));
  if (admin) return Role::kAdmin;
  if (!ValidateUserName(user).ok() || !ValidateRefName(RoleRefName(project, user)).ok()) {
    return Role::kNone;
  }
  KILN_ASSIGN_OR_RETURN(std::optional<Digest> ref, store_.GetRef(RoleRefName(project, user)));
  if (!ref) return Role::kNone;
  KILN_ASSIGN_OR_RETURN(Value::Map m, ReadRecord(store_, *ref, kRoleTag));
  const Value& r = Field(m, "role");
  if (!r.is_string()) return Corruption("role record without a role");
  return ParseRole(r.as_string());
}

Status Access::Check(const std::string& user, const std::string& project, Role needed) {
  KILN_ASSIGN_OR_RETURN(Role have, RoleOf(project, user));
  if (have >= needed) return Status::Ok();
  if (have == Role::kNone) {
    return Status(Code::kPermissionDenied, "no access to project '" + project + "'");
  }
  return Status(Code::kPermissionDenied, std::string("this needs the ") + RoleName(needed) +
                                             " role on project '" + project + "'; you have " +
                                             RoleName(have));
}

}  // namespace kiln
