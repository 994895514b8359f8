// Credentials: secrets that Kiln's backends need (S3 keys, a cluster
// account's settings), stored once by a user or a project admin, sealed at
// rest and never handed back through the API (docs/access.md, "Stored
// credentials").
//
// - A record lives in the ObjectStore under the ref
//   "credentials/<scope>/<name>", scope "server" or "project/<project>".
//   It keeps its public fields (access_key, endpoint, ...) in clear and its
//   secret fields sealed with libsodium's crypto_secretbox (XSalsa20-Poly1305)
//   under the server key, with the id of that key.
// - The server key is 32 random bytes in a file outside the database
//   (ServerKey), so a copy of the database alone opens nothing. Rotate()
//   re-seals every record under a new key.
// - Secrets are write-only: Put replaces them, List/Get name which secret
//   fields are set but never their values. Only Reveal returns them, for the
//   backends at the moment a job or an upload needs them; its result must
//   never reach an API response or a log.
// - Who may do what is CheckCredentialAccess, a pure function of the roles.
//
// Ownership: Credentials borrows the store and clock (they must outlive it)
// and owns a copy of the server key, wiped when it is destroyed.
// Thread-safety: safe for concurrent use (the store is; the key and the rest
// are immutable after construction). Concurrent Puts of one record are
// settled by compare-and-swap on its ref: the loser gets Conflict.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "access/access.h"
#include "core/clock.h"
#include "core/status.h"
#include "store/object_store.h"

namespace kiln {

// The key that seals stored credentials: 32 random bytes, kept in a file
// (mode 0600) outside the database. Its id, the first 8 hex digits of the
// SHA-256 of the key, is stored with each record so rotation and error
// messages can tell which key sealed what without revealing the key.
class ServerKey {
 public:
  static constexpr size_t kSize = 32;

  // Loads the key at `path`, or creates it (0600, random) when no file is
  // there. Refuses a file readable or writable by group or others, one that
  // is not a regular file, or one that is not exactly 32 bytes.
  static Result<ServerKey> LoadOrCreate(const std::string& path);
  // Loads an existing key file, with the same checks; NotFound when absent.
  static Result<ServerKey> Load(const std::string& path);
  // A fresh random key held only in memory (tests, and rotation before the
  // new file is written).
  static ServerKey Generate();
  // Writes this key to `path`, which must not exist yet (0600, fsynced).
  Status WriteNewFile(const std::string& path) const;

  ServerKey(const ServerKey&) = default;
  ServerKey& operator=(const ServerKey&) = default;
  ~ServerKey();

  const std::string& id() const { return id_; }
  // Where the key came from ("" for a generated one), for error messages.
  const std::string& path() const { return path_; }
  const unsigned char* bytes() const { return bytes_.data(); }

 private:
  ServerKey() = default;
  std::array<unsigned char, kSize> bytes_{};
  std::string id_;
  std::string path_;
};

// What kind of backend a credential is for. "s3" records need the public
// field access_key and the secret field secret_key; "slurm" and "generic"
// take any fields.
inline constexpr const char* kCredentialKinds[] = {"s3", "slurm", "generic"};

using CredentialFields = std::map<std::string, std::string>;

// A credential as it may be shown: everything but the secret values.
struct CredentialInfo {
  std::string scope;  // "server" or "project/<project>"
  std::string name;
  std::string kind;
  CredentialFields public_fields;
  std::vector<std::string> secret_names;  // which secret fields are set, sorted
  std::string key_id;                     // the server key that sealed it
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  std::string updated_by;
};

// Scopes: "server" for the whole server, "project/<project>" for one project.
std::string ServerCredentialScope();
std::string ProjectCredentialScope(const std::string& project);
// InvalidArgument unless `scope` is one of the two forms with a valid
// project name ([A-Za-z0-9._-], 1..64, not starting with '.').
Status ValidateCredentialScope(std::string_view scope);
// Credential and field names: 1..64 of [A-Za-z0-9._-], not starting with '.'.
Status ValidateCredentialName(std::string_view name);

enum class CredentialAction { kList, kWrite, kRemove };

// Whether `user` may do `action` on the credentials of `scope`:
// project scope: list needs read on the project, write and remove need
// admin; server scope: server admins only (the local user is one).
// PermissionDenied otherwise, saying nothing about whether a project exists.
Status CheckCredentialAccess(Access& access, const std::string& user, const std::string& scope,
                             CredentialAction action);

class Credentials {
 public:
  // Limits on what one credential holds.
  static constexpr size_t kMaxFields = 32;          // public and secret each
  static constexpr size_t kMaxValueBytes = 8192;    // per field value

  Credentials(ObjectStore& store, const Clock& clock, ServerKey key)
      : store_(store), clock_(clock), key_(std::move(key)) {}

  const ServerKey& key() const { return key_; }

  // Creates or replaces the credential `name` in `scope` (all its fields:
  // secret fields not given are gone). Needs at least one secret field; a
  // field name may not be both public and secret. `actor` is recorded as
  // updated_by. Conflict when another Put or Remove of the same record won
  // the race. The caller checks access first (CheckCredentialAccess).
  Status Put(const std::string& scope, const std::string& name, const std::string& kind,
             const CredentialFields& public_fields, const CredentialFields& secret_fields,
             const std::string& actor);
  // Every credential of `scope`, sorted by name, without secret values.
  Result<std::vector<CredentialInfo>> List(const std::string& scope);
  // One credential without secret values; NotFound when absent.
  Result<CredentialInfo> Get(const std::string& scope, const std::string& name);
  // NotFound when absent.
  Status Remove(const std::string& scope, const std::string& name);
  // Removes every credential of `scope` (when a project is deleted, so a
  // project later made under the same name does not inherit them).
  Status RemoveAll(const std::string& scope);

  // The secret fields, for the backends only; never put them in an API
  // response or a log. FailedPrecondition naming the key id when the record
  // was sealed by another key than this object's; Corruption when the
  // sealed bytes do not open (tampered, or moved from another record).
  Result<CredentialFields> Reveal(const std::string& scope, const std::string& name);

  // Re-seals every stored credential sealed by `old_key` under `new_key`, in
  // one atomic batch; records already under `new_key` are left as they are,
  // so a rotation can be run again. FailedPrecondition naming the key id of
  // any record sealed by neither key (nothing is changed then); Conflict
  // when a credential changed meanwhile (run it again). Returns how many
  // records were re-sealed. Uses only the store, not this object's key.
  static Result<int> Rotate(ObjectStore& store, const ServerKey& old_key, const ServerKey& new_key);

 private:
  ObjectStore& store_;
  const Clock& clock_;
  ServerKey key_;
};

// The rotation a server admin runs with the server stopped, on the key file
// at `key_path` (docs/access.md): writes a new key to "<key_path>.new",
// re-seals every credential under it, then moves the old file to
// "<key_path>.old" and the new one to `key_path`. Run again after a crash at
// any step, it finishes the job. Returns the new key's id.
Result<std::string> RotateKeyFile(ObjectStore& store, const std::string& key_path);

}  // namespace kiln
