// Access: Kiln's users, their credentials and their roles on projects.
//
// - Users have Argon2id password hashes (libsodium's crypto_pwhash_str).
// - API tokens (for scripts and workers) and browser sessions are random
//   secrets shown once; only their SHA-256 is stored, so a copy of the data
//   folder does not leak usable credentials. Sessions expire.
// - Roles are per project: read < write < admin. Server admins may do
//   anything. A user without read access to a project is told "no access",
//   whether or not the project exists, so they learn nothing about it.
// Everything lives in the ObjectStore under refs "users/…", "tokens/…" and
// "access/…" (docs/access.md), so it follows the store to PostgreSQL.
//
// Ownership: borrows the store and clock, which must outlive it.
// Thread-safety: safe for concurrent use (the store is; no state of its own
// beyond immutable configuration).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "store/object_store.h"

namespace kiln {

enum class Role { kNone = 0, kRead = 1, kWrite = 2, kAdmin = 3 };
const char* RoleName(Role role);
Result<Role> ParseRole(std::string_view name);

struct UserInfo {
  std::string name;
  bool server_admin = false;
  int64_t created_ms = 0;
};

struct TokenInfo {
  std::string user;
  std::string label;
  bool session = false;
  int64_t created_ms = 0;
  int64_t expires_ms = 0;  // 0: never
  // A worker token (`kiln workers token`): it acts for no user and reaches
  // only the worker routes; `label` is the worker's name.
  bool worker = false;
};

class Access {
 public:
  // The user every request acts as when the server runs without
  // authentication (loopback, embedded default). Has every right.
  static constexpr const char* kLocalUser = "local";

  Access(ObjectStore& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Called after a change through this object that takes rights away from
  // `user` — a role lowered or removed, the user removed, one of the user's
  // tokens or sessions revoked — so open connections of that user can be
  // re-checked at once (serve.cc closes the user's WebSockets). Set once,
  // before the object is shared.
  void set_on_revoke(std::function<void(const std::string& user)> f) { on_revoke_ = std::move(f); }

  // Names: 1..64 of [A-Za-z0-9_.-], not starting with '.'; passwords ≥ 8 bytes.
  Status AddUser(const std::string& name, const std::string& password, bool server_admin);
  Status RemoveUser(const std::string& name);  // also revokes its tokens and roles
  Result<std::vector<UserInfo>> ListUsers();
  Result<UserInfo> GetUser(const std::string& name);

  // Returns the secret; it cannot be read back later.
  Result<std::string> CreateToken(const std::string& user, const std::string& label);
  // A token for a remote worker (`kiln worker --token`): its own kind
  // (kiln_w_…), valid only for /api/v1/workers/… (docs/access.md). Revoke
  // it like any other.
  Result<std::string> CreateWorkerToken(const std::string& name);
  // Checks the password and returns a session secret valid for `ttl_ms`.
  Result<std::string> Login(const std::string& user, const std::string& password,
                            int64_t ttl_ms = 7 * 24 * 3600 * 1000LL);
  Status Revoke(const std::string& secret);
  // Unauthenticated for unknown, revoked or expired secrets.
  Result<TokenInfo> Authenticate(const std::string& secret);

  Status SetRole(const std::string& project, const std::string& user, Role role);
  Result<Role> RoleOf(const std::string& project, const std::string& user);
  // OK when `user` has at least `needed` on `project`; else PermissionDenied
  // with a message that says nothing about whether the project exists.
  Status Check(const std::string& user, const std::string& project, Role needed);
  // Whether `user` is the local user or a server admin.
  Result<bool> IsServerAdmin(const std::string& user);

 private:
  Result<std::optional<Digest>> UserRef(const std::string& name);
  Result<std::string> IssueSecret(const std::string& user, const std::string& label, bool session,
                                  int64_t expires_ms, bool worker = false);

  void Revoked(const std::string& user) {
    if (on_revoke_) on_revoke_(user);
  }

  ObjectStore& store_;
  const Clock& clock_;
  std::function<void(const std::string& user)> on_revoke_;
};

Status ValidateUserName(std::string_view name);

}  // namespace kiln
