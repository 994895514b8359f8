#include "access/credentials.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/value.h"

namespace kiln {
namespace {

constexpr char kCredentialTag = 'C';
constexpr const char* kRefPrefix = "credentials/";

bool SodiumReady() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

// Plain names: the characters of ref segments, no leading '.', so that a
// name is always one valid ref segment.
Status ValidatePlainName(std::string_view name, const char* what) {
  if (name.empty() || name.size() > 64 || name[0] == '.') {
    return InvalidArgument(std::string("a ") + what +
                           " has 1 to 64 characters and does not start with '.'");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) {
      return InvalidArgument(std::string(what) + " '" + std::string(name) +
                             "' has a character outside [A-Za-z0-9._-]");
    }
  }
  return Status::Ok();
}

std::string RefName(const std::string& scope, const std::string& name) {
  return kRefPrefix + scope + "/" + name;
}

const Value& Field(const Value::Map& m, const char* key) {
  static const Value kNull;
  auto it = m.find(key);
  return it == m.end() ? kNull : it->second;
}

std::string StringField(const Value::Map& m, const char* key) {
  const Value& v = Field(m, key);
  return v.is_string() ? v.as_string() : "";
}

// A stored record, decoded. The secret values stay sealed in `sealed`.
struct Record {
  std::string name, kind, key_id, updated_by;
  CredentialFields public_fields;
  std::vector<std::string> secret_names;
  std::string sealed;  // nonce followed by the secretbox ciphertext
  int64_t created_ms = 0, updated_ms = 0;
};

std::string EncodeRecord(const Record& r) {
  Value::Map fields;
  for (const auto& [k, v] : r.public_fields) fields[k] = v;
  Value::List names;
  for (const auto& n : r.secret_names) names.emplace_back(n);
  Value::Map m = {{"created_ms", r.created_ms},  {"fields", std::move(fields)},
                  {"key_id", r.key_id},          {"kind", r.kind},
                  {"name", r.name},              {"sealed", Bytes{r.sealed}},
                  {"secret_names", std::move(names)}, {"updated_by", r.updated_by},
                  {"updated_ms", r.updated_ms}};
  return std::string(1, kCredentialTag) + Value(std::move(m)).Encode();
}

Result<Record> ReadRecord(ObjectStore& store, const std::string& refname, const Digest& d) {
  KILN_ASSIGN_OR_RETURN(std::string bytes, store.Get(d));
  Status bad = Corruption("credential record " + refname + " (" + d.Hex() + ") is malformed");
  if (bytes.empty() || bytes[0] != kCredentialTag) return bad;
  KILN_ASSIGN_OR_RETURN(Value v, Value::Decode(std::string_view(bytes).substr(1)));
  if (!v.is_map()) return bad;
  const Value::Map& m = v.as_map();
  Record r;
  r.name = StringField(m, "name");
  r.kind = StringField(m, "kind");
  r.key_id = StringField(m, "key_id");
  r.updated_by = StringField(m, "updated_by");
  if (!Field(m, "sealed").is_bytes() || !Field(m, "fields").is_map()) return bad;
  r.sealed = Field(m, "sealed").as_bytes().data;
  for (const auto& [k, fv] : Field(m, "fields").as_map()) {
    if (!fv.is_string()) return bad;
    r.public_fields[k] = fv.as_string();
  }
  if (Field(m, "secret_names").is_list()) {
    for (const Value& n : Field(m, "secret_names").as_list()) {
      if (n.is_string()) r.secret_names.push_back(n.as_string());
    }
  }
  r.created_ms = Field(m, "created_ms").is_int() ? Field(m, "created_ms").as_int() : 0;
  r.updated_ms = Field(m, "updated_ms").is_int() ? Field(m, "updated_ms").as_int() : 0;
  return r;
}

CredentialInfo InfoOf(const std::string& scope, Record r) {
  CredentialInfo info;
  info.scope = scope;
  info.name = std::move(r.name);
  info.kind = std::move(r.kind);
  info.public_fields = std::move(r.public_fields);
  info.secret_names = std::move(r.secret_names);
  info.key_id = std::move(r.key_id);
  info.created_ms = r.created_ms;
  info.updated_ms = r.updated_ms;
  info.updated_by = std::move(r.updated_by);
  return info;
}

// The plaintext names its scope and record, so sealed bytes copied into
// another record (by someone who can write the database but has no key)
// are refused when opened there rather than handed to the wrong backend.
std::string Plaintext(const std::string& scope, const std::string& name,
                      const CredentialFields& secrets) {
  Value::Map s;
  for (const auto& [k, v] : secrets) s[k] = v;
  return Value(Value::Map{{"name", name}, {"scope", scope}, {"secrets", std::move(s)}}).Encode();
}

std::string Seal(const ServerKey& key, std::string plaintext) {
  std::string out(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size(), '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                        nonce, key.bytes());
  sodium_memzero(plaintext.data(), plaintext.size());
  return out;
}

// Opens a record's sealed bytes with `key` (whose id the caller matched).
Result<CredentialFields> Open(const ServerKey& key, const std::string& scope,
                              const std::string& name, const std::string& sealed) {
  Status bad = Corruption("credential '" + name + "' in " + scope +
                          " does not open with server key " + key.id() +
                          ": its sealed bytes were altered or copied from another record");
  if (sealed.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) return bad;
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  const unsigned char* box = nonce + crypto_secretbox_NONCEBYTES;
  size_t box_size = sealed.size() - crypto_secretbox_NONCEBYTES;
  std::string plain(box_size - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()), box, box_size,
                                 nonce, key.bytes()) != 0) {
    return bad;
  }
  Result<Value> v = Value::Decode(plain);
  sodium_memzero(plain.data(), plain.size());
  if (!v.ok() || !v->is_map()) return bad;
  const Value::Map& m = v->as_map();
  if (StringField(m, "scope") != scope || StringField(m, "name") != name) return bad;
  if (!Field(m, "secrets").is_map()) return bad;
  CredentialFields out;
  for (const auto& [k, sv] : Field(m, "secrets").as_map()) {
    if (!sv.is_string()) return bad;
    out[k] = sv.as_string();
  }
  return out;
}

Status ValidateFields(const CredentialFields& fields, const char* what) {
  if (fields.size() > Credentials::kMaxFields) {
    return InvalidArgument(std::string("at most ") + std::to_string(Credentials::kMaxFields) + " " +
                           what + " fields, not " + std::to_string(fields.size()));
  }
  for (const auto& [k, v] : fields) {
    KILN_RETURN_IF_ERROR(ValidatePlainName(k, "field name"));
    if (v.size() > Credentials::kMaxValueBytes) {
      return InvalidArgument(std::string(what) + " field '" + k + "' has " +
                             std::to_string(v.size()) + " bytes; the limit is " +
                             std::to_string(Credentials::kMaxValueBytes));
    }
  }
  return Status::Ok();
}

Status ValidateKind(const std::string& kind, const CredentialFields& pub,
                    const CredentialFields& secret) {
  bool known = false;
  for (const char* k : kCredentialKinds) known = known || kind == k;
  if (!known) {
    return InvalidArgument("unknown credential kind '" + kind + "' (s3, slurm or generic)");
  }
  if (kind == "s3") {
    if (!pub.contains("access_key")) {
      return InvalidArgument("an s3 credential needs the public field access_key");
    }
    if (!secret.contains("secret_key")) {
      return InvalidArgument("an s3 credential needs the secret field secret_key");
    }
  }
  return Status::Ok();
}

// Reads and checks the key file open on `fd`.
Status ReadKeyFd(int fd, const std::string& path, std::array<unsigned char, 32>& out) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return IOError(Errno("cannot stat key file", path));
  if (!S_ISREG(st.st_mode)) {
    return FailedPrecondition("key file " + path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
    return FailedPrecondition("key file " + path + " may be read or written by group or others (mode " +
                              mode + "); make it private with: chmod 600 " + path);
  }
  if (st.st_size != static_cast<off_t>(ServerKey::kSize)) {
    return FailedPrecondition("key file " + path + " has " + std::to_string(st.st_size) +
                              " bytes; a Kiln server key is exactly 32 random bytes");
  }
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IOError(Errno("cannot read key file", path));
    got += size_t(n);
  }
  return Status::Ok();
}

Status FsyncDir(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IOError(Errno("cannot open folder", dir));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return IOError(Errno("cannot sync folder", dir));
  return Status::Ok();
}

std::string KeyIdOf(const unsigned char* bytes) {
  return Digest::Of(std::string_view(reinterpret_cast<const char*>(bytes), ServerKey::kSize))
      .Hex()
      .substr(0, 8);
}

}  // namespace

// ------------------------------------------------------------------ ServerKey

ServerKey::~ServerKey() { sodium_memzero(bytes_.data(), bytes_.size()); }

ServerKey ServerKey::Generate() {
  SodiumReady();
  ServerKey k;
  randombytes_buf(k.bytes_.data(), k.bytes_.size());
  k.id_ = KeyIdOf(k.bytes_.data());
  return k;
}

Result<ServerKey> ServerKey::Load(const std::string& path) {
  if (!SodiumReady()) return Internal("libsodium failed to initialise");
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound("no key file " + path);
    if (errno == ELOOP) return FailedPrecondition("key file " + path + " is a symbolic link");
    return IOError(Errno("cannot open key file", path));
  }
  ServerKey k;
  Status read = ReadKeyFd(fd, path, k.bytes_);
  ::close(fd);
  KILN_RETURN_IF_ERROR(read);
  k.id_ = KeyIdOf(k.bytes_.data());
  k.path_ = path;
  return k;
}

Status ServerKey::WriteNewFile(const std::string& path) const {
  if (!SodiumReady()) return Internal("libsodium failed to initialise");
  // Written to a private temporary file, then linked into place: link()
  // never replaces an existing file, and nobody sees a half-written key.
  unsigned char suffix[8];
  randombytes_buf(suffix, sizeof suffix);
  char hex[2 * sizeof suffix + 1];
  sodium_bin2hex(hex, sizeof hex, suffix, sizeof suffix);
  std::string tmp = path + ".tmp-" + hex;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return IOError(Errno("cannot create key file", tmp));
  bool ok = ::fchmod(fd, 0600) == 0 &&
            ::write(fd, bytes_.data(), bytes_.size()) == ssize_t(bytes_.size()) &&
            ::fsync(fd) == 0;
  std::string err = ok ? "" : Errno("cannot write key file", tmp);
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    return IOError(err);
  }
  int rc = ::link(tmp.c_str(), path.c_str());
  int link_errno = errno;
  ::unlink(tmp.c_str());
  if (rc != 0) {
    errno = link_errno;
    if (link_errno == EEXIST) return AlreadyExists("key file " + path + " exists already");
    return IOError(Errno("cannot create key file", path));
  }
  return FsyncDir(path);
}

Result<ServerKey> ServerKey::LoadOrCreate(const std::string& path) {
  Result<ServerKey> k = Load(path);
  if (k.ok() || k.status().code() != Code::kNotFound) return k;
  ServerKey fresh = Generate();
  Status s = fresh.WriteNewFile(path);
  // Another process created it first: use theirs.
  if (s.code() == Code::kAlreadyExists) return Load(path);
  KILN_RETURN_IF_ERROR(s);
  fresh.path_ = path;
  return fresh;
}

// --------------------------------------------------------------- scopes, access

std::string ServerCredentialScope() { return "server"; }
std::string ProjectCredentialScope(const std::string& project) { return "project/" + project; }

Status ValidateCredentialScope(std::string_view scope) {
  if (scope == "server") return Status::Ok();
  if (scope.starts_with("project/")) {
    return ValidatePlainName(scope.substr(8), "project name");
  }
  return InvalidArgument("credential scope '" + std::string(scope) +
                         "' is neither 'server' nor 'project/<project>'");
}

Status ValidateCredentialName(std::string_view name) {
  return ValidatePlainName(name, "credential name");
}

Status CheckCredentialAccess(Access& access, const std::string& user, const std::string& scope,
                             CredentialAction action) {
  KILN_RETURN_IF_ERROR(ValidateCredentialScope(scope));
  if (scope == "server") {
    KILN_ASSIGN_OR_RETURN(bool admin, access.IsServerAdmin(user));
    if (admin) return Status::Ok();
    return Status(Code::kPermissionDenied, "only a server admin may see or change server credentials");
  }
  Role needed = action == CredentialAction::kList ? Role::kRead : Role::kAdmin;
  return access.Check(user, scope.substr(8), needed);
}

// ---------------------------------------------------------------- Credentials

Status Credentials::Put(const std::string& scope, const std::string& name, const std::string& kind,
                        const CredentialFields& public_fields,
                        const CredentialFields& secret_fields, const std::string& actor) {
  KILN_RETURN_IF_ERROR(ValidateCredentialScope(scope));
  KILN_RETURN_IF_ERROR(ValidateCredentialName(name));
  KILN_RETURN_IF_ERROR(ValidateFields(public_fields, "public"));
  KILN_RETURN_IF_ERROR(ValidateFields(secret_fields, "secret"));
  if (secret_fields.empty()) return InvalidArgument("a credential needs at least one secret field");
  for (const auto& [k, v] : secret_fields) {
    if (public_fields.contains(k)) {
      return InvalidArgument("field '" + k + "' is given both as public and as secret");
    }
    if (v.empty()) return InvalidArgument("secret field '" + k + "' is empty");
  }
  KILN_RETURN_IF_ERROR(ValidateKind(kind, public_fields, secret_fields));
  if (!SodiumReady()) return Internal("libsodium failed to initialise");

  std::string refname = RefName(scope, name);
  KILN_ASSIGN_OR_RETURN(std::optional<Digest> current, store_.GetRef(refname));
  Record r;
  r.created_ms = clock_.NowMillis();
  if (current) {
    Result<Record> old = ReadRecord(store_, refname, *current);
    if (old.ok()) r.created_ms = old->created_ms;
  }
  r.name = name;
  r.kind = kind;
  r.public_fields = public_fields;
  for (const auto& [k, v] : secret_fields) r.secret_names.push_back(k);
  r.sealed = Seal(key_, Plaintext(scope, name, secret_fields));
  r.key_id = key_.id();
  r.updated_ms = clock_.NowMillis();
  r.updated_by = actor;

  WriteBatch b;
  Digest d = b.Put(EncodeRecord(r));
  b.UpdateRef({refname, current, d});
  Status s = store_.Write(b);
  if (s.code() == Code::kConflict) {
    return Conflict("credential '" + name + "' in " + scope + " changed meanwhile; try again");
  }
  return s;
}

Result<std::vector<CredentialInfo>> Credentials::List(const std::string& scope) {
  KILN_RETURN_IF_ERROR(ValidateCredentialScope(scope));
  std::string prefix = std::string(kRefPrefix) + scope + "/";
  KILN_ASSIGN_OR_RETURN(auto refs, store_.ListRefs(prefix));
  std::vector<CredentialInfo> out;
  for (const auto& [refname, digest] : refs) {
    // Only records directly under the scope: "project/a" must not list
    // anything of a deeper scope, should one ever exist.
    if (refname.find('/', prefix.size()) != std::string::npos) continue;
    KILN_ASSIGN_OR_RETURN(Record r, ReadRecord(store_, refname, digest));
    out.push_back(InfoOf(scope, std::move(r)));
  }
  return out;
}

Result<CredentialInfo> Credentials::Get(const std::string& scope, const std::string& name) {
  KILN_RETURN_IF_ERROR(ValidateCredentialScope(scope));
  KILN_RETURN_IF_ERROR(ValidateCredentialName(name));
  std::string refname = RefName(scope, name);
  KILN_ASSIGN_OR_RETURN(std::optional<Digest> ref, store_.GetRef(refname));
  if (!ref) return NotFound("no credential '" + name + "' in " + scope);
  KILN_ASSIGN_OR_RETURN(Record r, ReadRecord(store_, refname, *ref));
  return InfoOf(scope, std::move(r));
}

Status Credentials::Remove(const std::string& scope, const std::string& name) {
  KILN_RETURN_IF_ERROR(ValidateCredentialScope(scope));
  KILN_RETURN_IF_ERROR(ValidateCredentialName(name));
  std::string refname = RefName(scope, name);
  KILN_ASSIGN_OR_RETURN(std::optional<Digest> ref, store_.GetRef(refname));
  if (!ref) return NotFound("no credential '" + name + "' in " + scope);
  WriteBatch b;
  b.UpdateRef({refname, ref, std::nullopt});
  Status s = store_.Write(b);
  if (s.code() == Code::kConflict) {
    return Conflict("credential '" + name + "' in " + scope + " changed meanwhile; try again");
  }
  return s;
}

Status Credentials::RemoveAll(const std::string& scope) {
  KILN_RETURN_IF_ERROR(ValidateCredentialScope(scope));
  std::string prefix = std::string(kRefPrefix) + scope + "/";
  KILN_ASSIGN_OR_RETURN(auto refs, store_.ListRefs(prefix));
  WriteBatch b;
  for (const auto& [refname, digest] : refs) {
    if (refname.find('/', prefix.size()) == std::string::npos) {
      b.UpdateRef({refname, digest, std::nullopt});
    }
  }
  if (b.empty()) return Status::Ok();
  return store_.Write(b);
}

Result<CredentialFields> Credentials::Reveal(const std::string& scope, const std::string& name) {
  KILN_RETURN_IF_ERROR(ValidateCredentialScope(scope));
  KILN_RETURN_IF_ERROR(ValidateCredentialName(name));
  if (!SodiumReady()) return Internal("libsodium failed to initialise");
  std::string refname = RefName(scope, name);
  KILN_ASSIGN_OR_RETURN(std::optional<Digest> ref, store_.GetRef(refname));
  if (!ref) return NotFound("no credential '" + name + "' in " + scope);
  KILN_ASSIGN_OR_RETURN(Record r, ReadRecord(store_, refname, *ref));
  if (r.key_id != key_.id()) {
    return FailedPrecondition("credential '" + name + "' in " + scope + " is sealed by server key " +
                              r.key_id + ", but this server's key is " + key_.id() +
                              (key_.path().empty() ? "" : " (" + key_.path() + ")") +
                              "; start the server with the key file it was sealed with, or store "
                              "the credential again");
  }
  return Open(key_, scope, name, r.sealed);
}

Result<int> Credentials::Rotate(ObjectStore& store, const ServerKey& old_key,
                                const ServerKey& new_key) {
  if (!SodiumReady()) return Internal("libsodium failed to initialise");
  KILN_ASSIGN_OR_RETURN(auto refs, store.ListRefs(kRefPrefix));
  WriteBatch b;
  int resealed = 0;
  for (const auto& [refname, digest] : refs) {
    KILN_ASSIGN_OR_RETURN(Record r, ReadRecord(store, refname, digest));
    if (r.key_id == new_key.id()) continue;  // done by an earlier run
    if (r.key_id != old_key.id()) {
      return FailedPrecondition("credential " + refname + " is sealed by server key " + r.key_id +
                                ", which is neither the old key " + old_key.id() +
                                " nor the new key " + new_key.id() + "; nothing was re-sealed");
    }
    // The ref is "credentials/<scope>/<name>"; the name has no '/'.
    std::string rest = refname.substr(std::strlen(kRefPrefix));
    std::string scope = rest.substr(0, rest.rfind('/'));
    KILN_ASSIGN_OR_RETURN(CredentialFields secrets, Open(old_key, scope, r.name, r.sealed));
    r.sealed = Seal(new_key, Plaintext(scope, r.name, secrets));
    for (auto& [k, v] : secrets) sodium_memzero(v.data(), v.size());
    r.key_id = new_key.id();
    Digest d = b.Put(EncodeRecord(r));
    b.UpdateRef({refname, digest, d});
    ++resealed;
  }
  if (b.empty()) return 0;
  Status s = store.Write(b);
  if (s.code() == Code::kConflict) {
    return Conflict("a credential changed during the rotation; nothing was re-sealed, run it again");
  }
  KILN_RETURN_IF_ERROR(s);
  return resealed;
}

Result<std::string> RotateKeyFile(ObjectStore& store, const std::string& key_path) {
  std::string new_path = key_path + ".new", old_path = key_path + ".old";
  Result<ServerKey> current = ServerKey::Load(key_path);
  if (!current.ok() && current.status().code() == Code::kNotFound) {
    // A crash after the old file was moved aside: only the last rename is left.
    Result<ServerKey> moved = ServerKey::Load(new_path);
    if (!moved.ok() && moved.status().code() == Code::kNotFound) return current.status();
    KILN_ASSIGN_OR_RETURN(ServerKey fresh, std::move(moved));
    KILN_ASSIGN_OR_RETURN(ServerKey old, ServerKey::Load(old_path));
    KILN_RETURN_IF_ERROR(Credentials::Rotate(store, old, fresh).status());
    if (::rename(new_path.c_str(), key_path.c_str()) != 0) {
      return IOError(Errno("cannot move the new key to", key_path));
    }
    KILN_RETURN_IF_ERROR(FsyncDir(key_path));
    return fresh.id();
  }
  KILN_RETURN_IF_ERROR(current.status());
  // An earlier run may have written the new key already; reuse it.
  Result<ServerKey> fresh = ServerKey::Load(new_path);
  if (!fresh.ok() && fresh.status().code() == Code::kNotFound) {
    ServerKey generated = ServerKey::Generate();
    KILN_RETURN_IF_ERROR(generated.WriteNewFile(new_path));
    fresh = ServerKey::Load(new_path);
  }
  KILN_RETURN_IF_ERROR(fresh.status());
  KILN_RETURN_IF_ERROR(Credentials::Rotate(store, *current, *fresh).status());
  if (::rename(key_path.c_str(), old_path.c_str()) != 0) {
    return IOError(Errno("cannot move the old key to", old_path));
  }
  if (::rename(new_path.c_str(), key_path.c_str()) != 0) {
    return IOError(Errno("cannot move the new key to", key_path));
  }
  KILN_RETURN_IF_ERROR(FsyncDir(key_path));
  return fresh->id();
}

}  // namespace kiln
