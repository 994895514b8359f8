// Tests of stored credentials: sealing, write-only listing, replacement and
// removal, wrong keys, rotation, the key file's checks, access rules and
// input limits. Key files and the SQLite store live in a temporary folder
// removed after each test.
#include "access/credentials.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <gtest/gtest.h>
#include <sstream>

#include "store/memory_store.h"
#include "store/sqlite_store.h"

namespace kiln {
namespace {

constexpr const char* kSecret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY";

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kiln-cred-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  Status PutS3(Credentials& c, const std::string& scope, const std::string& name,
               const std::string& secret) {
    return c.Put(scope, name, "s3", {{"access_key", "AKIDEXAMPLE"}, {"endpoint", "http://s3.local"}},
                 {{"secret_key", secret}}, "ada");
  }

  std::filesystem::path dir_;
  MemoryStore store_;
  FakeClock clock_;
};

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_F(CredentialsTest, RoundTrip) {
  Credentials creds(store_, clock_, ServerKey::Generate());
  std::string scope = ProjectCredentialScope("digits");
  ASSERT_TRUE(creds.Put(scope, "cluster", "slurm", {{"host", "login.hpc"}, {"user", "ada"}},
                        {{"password", "hunter22"}, {"ssh_key", "-----BEGIN KEY-----"}}, "ada")
                  .ok());
  auto secrets = creds.Reveal(scope, "cluster");
  ASSERT_TRUE(secrets.ok()) << secrets.status().message();
  EXPECT_EQ(*secrets, (CredentialFields{{"password", "hunter22"}, {"ssh_key", "-----BEGIN KEY-----"}}));
  auto info = creds.Get(scope, "cluster");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->kind, "slurm");
  EXPECT_EQ(info->public_fields.at("host"), "login.hpc");
  EXPECT_EQ(info->key_id, creds.key().id());
  EXPECT_EQ(info->updated_by, "ada");
  EXPECT_EQ(info->created_ms, clock_.NowMillis());
  // Another scope does not see it.
  EXPECT_EQ(creds.Reveal(ServerCredentialScope(), "cluster").status().code(), Code::kNotFound);
  EXPECT_EQ(creds.Reveal(ProjectCredentialScope("digits2"), "cluster").status().code(),
            Code::kNotFound);
}

TEST_F(CredentialsTest, RawStoreBytesHoldNoSecret) {
  // A real database on disk: every byte SQLite wrote (database and WAL).
  {
    auto sqlite = SqliteStore::Open(Path("kiln.db"));
    ASSERT_TRUE(sqlite.ok()) << sqlite.status().message();
    Credentials creds(**sqlite, clock_, ServerKey::Generate());
    ASSERT_TRUE(PutS3(creds, "server", "backup", kSecret).ok());
    ASSERT_EQ(creds.Reveal("server", "backup")->at("secret_key"), kSecret);
  }
  std::string all;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) all += ReadAll(entry.path());
  ASSERT_NE(all.find("AKIDEXAMPLE"), std::string::npos) << "the public field should be stored";
  EXPECT_EQ(all.find(kSecret), std::string::npos);
  EXPECT_EQ(all.find("EXAMPLEKEY"), std::string::npos);
}

TEST_F(CredentialsTest, ListAndGetShowNoSecret) {
  Credentials creds(store_, clock_, ServerKey::Generate());
  std::string scope = ProjectCredentialScope("digits");
  ASSERT_TRUE(PutS3(creds, scope, "b-bucket", kSecret).ok());
  ASSERT_TRUE(creds.Put(scope, "a-api", "generic", {}, {{"token", "tok-123456"}}, "bob").ok());
  auto list = creds.List(scope);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "a-api");
  EXPECT_EQ((*list)[1].name, "b-bucket");
  EXPECT_EQ((*list)[1].secret_names, std::vector<std::string>{"secret_key"});
  for (const CredentialInfo& c : *list) {
    for (const auto& [k, v] : c.public_fields) {
      EXPECT_EQ(v.find(kSecret), std::string::npos);
      EXPECT_EQ(v.find("tok-123456"), std::string::npos);
    }
  }
  EXPECT_TRUE(creds.List(ServerCredentialScope())->empty());
  EXPECT_TRUE(creds.List(ProjectCredentialScope("digit"))->empty());  // a prefix of "digits"
}

TEST_F(CredentialsTest, PutReplacesEverything) {
  Credentials creds(store_, clock_, ServerKey::Generate());
  ASSERT_TRUE(creds.Put("server", "x", "generic", {{"a", "1"}}, {{"old", "s1"}, {"keep", "s2"}},
                        "ada")
                  .ok());
  int64_t created = clock_.NowMillis();
  clock_.Advance(5000);
  ASSERT_TRUE(creds.Put("server", "x", "generic", {{"b", "2"}}, {{"new", "s3"}}, "bob").ok());
  auto info = creds.Get("server", "x");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->public_fields, (CredentialFields{{"b", "2"}}));
  EXPECT_EQ(info->secret_names, std::vector<std::string>{"new"});
  EXPECT_EQ(info->created_ms, created);
  EXPECT_EQ(info->updated_ms, created + 5000);
  EXPECT_EQ(info->updated_by, "bob");
  EXPECT_EQ(*creds.Reveal("server", "x"), (CredentialFields{{"new", "s3"}}));
  EXPECT_EQ(creds.List("server")->size(), 1u);
}

TEST_F(CredentialsTest, Remove) {
  Credentials creds(store_, clock_, ServerKey::Generate());
  ASSERT_TRUE(PutS3(creds, "project/p", "s3", kSecret).ok());
  ASSERT_TRUE(PutS3(creds, "project/p", "s3b", kSecret).ok());
  ASSERT_TRUE(PutS3(creds, "project/q", "s3", kSecret).ok());
  ASSERT_TRUE(creds.Remove("project/p", "s3").ok());
  EXPECT_EQ(creds.Reveal("project/p", "s3").status().code(), Code::kNotFound);
  EXPECT_EQ(creds.Remove("project/p", "s3").code(), Code::kNotFound);
  EXPECT_EQ(creds.List("project/p")->size(), 1u);
  ASSERT_TRUE(creds.RemoveAll("project/p").ok());
  EXPECT_TRUE(creds.List("project/p")->empty());
  EXPECT_TRUE(creds.Reveal("project/q", "s3").ok());  // other projects keep theirs
}

// A MemoryStore that runs `before_write` once, just before the next Write,
// to make another change win the race.
class RacingStore : public MemoryStore {
 public:
  std::function<void()> before_write;
  Status Write(const WriteBatch& batch) override {
    if (auto f = std::exchange(before_write, nullptr)) f();
    return MemoryStore::Write(batch);
  }
};

TEST_F(CredentialsTest, ConcurrentPutLosesWithConflict) {
  RacingStore racing;
  Credentials creds(racing, clock_, ServerKey::Generate());
  ASSERT_TRUE(creds.Put("server", "x", "generic", {}, {{"token", "first"}}, "ada").ok());
  racing.before_write = [&] {
    ASSERT_TRUE(creds.Put("server", "x", "generic", {}, {{"token", "winner"}}, "bob").ok());
  };
  Status lost = creds.Put("server", "x", "generic", {}, {{"token", "loser"}}, "ada");
  EXPECT_EQ(lost.code(), Code::kConflict) << lost.message();
  EXPECT_EQ(creds.Reveal("server", "x")->at("token"), "winner");
}

TEST_F(CredentialsTest, WrongKeyGivesClearErrorNotGarbage) {
  Credentials creds(store_, clock_, ServerKey::Generate());
  ASSERT_TRUE(PutS3(creds, "server", "s3", kSecret).ok());
  Credentials other(store_, clock_, ServerKey::Generate());
  auto r = other.Reveal("server", "s3");
  ASSERT_EQ(r.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(r.status().message().find(creds.key().id()), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find(other.key().id()), std::string::npos);
}

TEST_F(CredentialsTest, SealedBytesMovedToAnotherRecordDoNotOpen) {
  Credentials creds(store_, clock_, ServerKey::Generate());
  ASSERT_TRUE(PutS3(creds, "project/a", "s3", "secret-of-a").ok());
  ASSERT_TRUE(PutS3(creds, "project/b", "s3", "secret-of-b").ok());
  // Someone with write access to the database but not the key points b's
  // record at a's object.
  auto a = store_.GetRef("credentials/project/a/s3");
  auto b = store_.GetRef("credentials/project/b/s3");
  WriteBatch batch;
  batch.UpdateRef({"credentials/project/b/s3", *b, *a});
  ASSERT_TRUE(store_.Write(batch).ok());
  EXPECT_EQ(creds.Reveal("project/b", "s3").status().code(), Code::kCorruption);
}

TEST_F(CredentialsTest, RotationResealsEverything) {
  ServerKey old_key = ServerKey::Generate(), new_key = ServerKey::Generate();
  Credentials before(store_, clock_, old_key);
  ASSERT_TRUE(PutS3(before, "server", "s3", kSecret).ok());
  ASSERT_TRUE(before.Put("project/p", "c", "slurm", {}, {{"password", "pw-p"}}, "ada").ok());
  ASSERT_TRUE(before.Put("project/q", "c", "generic", {}, {{"token", "tok-q"}}, "ada").ok());

  auto n = Credentials::Rotate(store_, old_key, new_key);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 3);
  Credentials after(store_, clock_, new_key);
  EXPECT_EQ(after.Reveal("server", "s3")->at("secret_key"), kSecret);
  EXPECT_EQ(after.Reveal("project/p", "c")->at("password"), "pw-p");
  EXPECT_EQ(after.Reveal("project/q", "c")->at("token"), "tok-q");
  auto listed = after.List("project/p");
  ASSERT_TRUE(listed.ok());
  for (const auto& c : *listed) EXPECT_EQ(c.key_id, new_key.id());
  EXPECT_EQ(before.Reveal("server", "s3").status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(before.Reveal("project/q", "c").status().code(), Code::kFailedPrecondition);
  // A second run finds nothing left to do.
  EXPECT_EQ(*Credentials::Rotate(store_, old_key, new_key), 0);
}

TEST_F(CredentialsTest, RotationRefusesRecordsOfAnUnknownKey) {
  ServerKey a = ServerKey::Generate(), b = ServerKey::Generate(), c = ServerKey::Generate();
  Credentials under_a(store_, clock_, a), under_c(store_, clock_, c);
  ASSERT_TRUE(PutS3(under_a, "server", "one", kSecret).ok());
  ASSERT_TRUE(PutS3(under_c, "server", "two", kSecret).ok());
  auto r = Credentials::Rotate(store_, a, b);
  ASSERT_EQ(r.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(r.status().message().find(c.id()), std::string::npos) << r.status().message();
  // Nothing was changed: "one" still opens under a.
  EXPECT_TRUE(under_a.Reveal("server", "one").ok());
}

TEST_F(CredentialsTest, RotateKeyFile) {
  std::string path = Path("credentials.key");
  auto key = ServerKey::LoadOrCreate(path);
  ASSERT_TRUE(key.ok());
  {
    Credentials creds(store_, clock_, *key);
    ASSERT_TRUE(PutS3(creds, "server", "s3", kSecret).ok());
  }
  auto new_id = RotateKeyFile(store_, path);
  ASSERT_TRUE(new_id.ok()) << new_id.status().message();
  EXPECT_NE(*new_id, key->id());
  auto loaded = ServerKey::Load(path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->id(), *new_id);
  EXPECT_EQ(ServerKey::Load(path + ".old")->id(), key->id());
  EXPECT_FALSE(std::filesystem::exists(path + ".new"));
  Credentials creds(store_, clock_, *loaded);
  EXPECT_EQ(creds.Reveal("server", "s3")->at("secret_key"), kSecret);

  // A crash after the old file was moved aside: running again finishes.
  ASSERT_TRUE(ServerKey::Generate().WriteNewFile(path + ".new").ok());
  std::filesystem::rename(path, path + ".old");
  auto finished = RotateKeyFile(store_, path);
  ASSERT_TRUE(finished.ok()) << finished.status().message();
  Credentials again(store_, clock_, *ServerKey::Load(path));
  EXPECT_EQ(again.key().id(), *finished);
  EXPECT_EQ(again.Reveal("server", "s3")->at("secret_key"), kSecret);
}

TEST_F(CredentialsTest, KeyFileChecks) {
  std::string path = Path("credentials.key");
  auto created = ServerKey::LoadOrCreate(path);
  ASSERT_TRUE(created.ok()) << created.status().message();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  EXPECT_EQ(created->id().size(), 8u);
  auto again = ServerKey::LoadOrCreate(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id(), created->id());
  EXPECT_EQ(ServerKey::Generate().WriteNewFile(path).code(), Code::kAlreadyExists);

  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto loose = ServerKey::LoadOrCreate(path);
  ASSERT_EQ(loose.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(loose.status().message().find("chmod 600"), std::string::npos)
      << loose.status().message();
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  EXPECT_EQ(ServerKey::Load(path).status().code(), Code::kFailedPrecondition);

  std::string short_path = Path("short.key");
  {
    std::ofstream(short_path) << "too short";
  }
  ASSERT_EQ(::chmod(short_path.c_str(), 0600), 0);
  auto bad_size = ServerKey::LoadOrCreate(short_path);
  ASSERT_EQ(bad_size.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(bad_size.status().message().find("9 bytes"), std::string::npos)
      << bad_size.status().message();

  EXPECT_EQ(ServerKey::Load(Path("absent.key")).status().code(), Code::kNotFound);
  EXPECT_FALSE(ServerKey::LoadOrCreate(Path("no-such-dir/k.key")).ok());
}

TEST_F(CredentialsTest, AccessFollowsProjectRoles) {
  Access access(store_, clock_);
  ASSERT_TRUE(access.AddUser("admin", "long password", false).ok());
  ASSERT_TRUE(access.AddUser("writer", "long password", false).ok());
  ASSERT_TRUE(access.AddUser("reader", "long password", false).ok());
  ASSERT_TRUE(access.AddUser("outsider", "long password", false).ok());
  ASSERT_TRUE(access.AddUser("root", "long password", true).ok());
  ASSERT_TRUE(access.SetRole("p", "admin", Role::kAdmin).ok());
  ASSERT_TRUE(access.SetRole("p", "writer", Role::kWrite).ok());
  ASSERT_TRUE(access.SetRole("p", "reader", Role::kRead).ok());
  std::string p = ProjectCredentialScope("p");
  auto ok = [&](const char* user, const std::string& scope, CredentialAction a) {
    Status s = CheckCredentialAccess(access, user, scope, a);
    EXPECT_TRUE(s.ok() || s.code() == Code::kPermissionDenied) << s.message();
    return s.ok();
  };
  using A = CredentialAction;
  for (A a : {A::kList, A::kWrite, A::kRemove}) {
    EXPECT_TRUE(ok("admin", p, a));
    EXPECT_TRUE(ok("root", p, a));
    EXPECT_TRUE(ok("local", p, a));
    EXPECT_FALSE(ok("outsider", p, a));
    EXPECT_TRUE(ok("root", "server", a));
    EXPECT_TRUE(ok("local", "server", a));
    EXPECT_FALSE(ok("admin", "server", a));  // a project admin is no server admin
    EXPECT_FALSE(ok("reader", "server", a));
  }
  EXPECT_TRUE(ok("writer", p, A::kList));
  EXPECT_TRUE(ok("reader", p, A::kList));
  EXPECT_FALSE(ok("writer", p, A::kWrite));
  EXPECT_FALSE(ok("writer", p, A::kRemove));
  EXPECT_FALSE(ok("reader", p, A::kWrite));
  EXPECT_FALSE(ok("admin", ProjectCredentialScope("other"), A::kList));
  // An outsider learns nothing about whether the project exists.
  EXPECT_EQ(CheckCredentialAccess(access, "outsider", p, A::kList).message(),
            "no access to project 'p'");
  EXPECT_EQ(CheckCredentialAccess(access, "root", "project/../x", A::kList).code(),
            Code::kInvalidArgument);
}

TEST_F(CredentialsTest, BadNamesAndOversizeValues) {
  Credentials creds(store_, clock_, ServerKey::Generate());
  auto put = [&](const std::string& scope, const std::string& name, const std::string& kind,
                 CredentialFields pub, CredentialFields sec) {
    return creds.Put(scope, name, kind, pub, sec, "ada");
  };
  CredentialFields sec = {{"token", "t"}};
  EXPECT_EQ(put("server", "", "generic", {}, sec).code(), Code::kInvalidArgument);
  EXPECT_EQ(put("server", "a/b", "generic", {}, sec).code(), Code::kInvalidArgument);
  EXPECT_EQ(put("server", "..", "generic", {}, sec).code(), Code::kInvalidArgument);
  EXPECT_EQ(put("server", std::string(65, 'a'), "generic", {}, sec).code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(put("server", std::string(64, 'a'), "generic", {}, sec).ok());
  Status space = put("server", "my key", "generic", {}, sec);
  EXPECT_NE(space.message().find("[A-Za-z0-9._-]"), std::string::npos) << space.message();
  EXPECT_EQ(put("projects/p", "x", "generic", {}, sec).code(), Code::kInvalidArgument);
  EXPECT_EQ(put("project/", "x", "generic", {}, sec).code(), Code::kInvalidArgument);
  EXPECT_EQ(put("project/a/b", "x", "generic", {}, sec).code(), Code::kInvalidArgument);
  EXPECT_EQ(put("server", "x", "ftp", {}, sec).code(), Code::kInvalidArgument);
  EXPECT_EQ(put("server", "x", "generic", {}, {}).code(), Code::kInvalidArgument);
  EXPECT_EQ(put("server", "x", "generic", {}, {{"token", ""}}).code(), Code::kInvalidArgument);
  EXPECT_EQ(put("server", "x", "generic", {{"token", "a"}}, sec).code(), Code::kInvalidArgument);
  EXPECT_EQ(put("server", "x", "generic", {{"bad field", "a"}}, sec).code(),
            Code::kInvalidArgument);
  // s3 records need their two fields.
  EXPECT_EQ(put("server", "x", "s3", {}, {{"secret_key", "s"}}).code(), Code::kInvalidArgument);
  EXPECT_EQ(put("server", "x", "s3", {{"access_key", "a"}}, sec).code(), Code::kInvalidArgument);

  std::string big(Credentials::kMaxValueBytes + 1, 'x');
  Status oversize = put("server", "x", "generic", {}, {{"token", big}});
  EXPECT_EQ(oversize.code(), Code::kInvalidArgument);
  EXPECT_NE(oversize.message().find("8192"), std::string::npos) << oversize.message();
  EXPECT_EQ(put("server", "x", "generic", {{"note", big}}, sec).code(), Code::kInvalidArgument);
  EXPECT_TRUE(put("server", "x", "generic", {}, {{"token", big.substr(1)}}).ok());

  CredentialFields many;
  for (size_t i = 0; i <= Credentials::kMaxFields; ++i) many["f" + std::to_string(i)] = "v";
  EXPECT_EQ(put("server", "x", "generic", {}, many).code(), Code::kInvalidArgument);
  EXPECT_EQ(put("server", "x", "generic", many, sec).code(), Code::kInvalidArgument);
  many.erase(many.begin());
  EXPECT_TRUE(put("server", "x", "generic", {}, many).ok());
}

}  // namespace
}  // namespace kiln
