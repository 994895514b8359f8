// StorageSet over two real LocalArtifactStores in a temporary folder: reads
// find the holder, puts go to the default or a named backend, copies and
// moves keep the digest, gc-style List/Delete see every backend.
#include "storage/storage_set.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "storage/local_artifact_store.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

// A local store that says it is remote, so the set asks it from several
// threads (as it does S3) while the test needs no S3.
class RemoteLooking : public ArtifactStore {
 public:
  explicit RemoteLooking(std::unique_ptr<ArtifactStore> inner) : inner_(std::move(inner)) {}
  Result<ArtifactInfo> PutFile(const fs::path& p) override { return inner_->PutFile(p); }
  Result<ArtifactInfo> PutStream(std::istream& in) override { return inner_->PutStream(in); }
  Result<std::unique_ptr<ArtifactWriter>> NewWriter() override { return inner_->NewWriter(); }
  Result<uint64_t> AvailableBytes() override { return inner_->AvailableBytes(); }
  Status GetToFile(const Digest& d, const fs::path& dest) override {
    return inner_->GetToFile(d, dest);
  }
  Status GetToStream(const Digest& d, std::ostream& out) override {
    return inner_->GetToStream(d, out);
  }
  Result<fs::path> Materialize(const Digest& d, const fs::path& scratch) override {
    return inner_->Materialize(d, scratch);
  }
  Result<bool> Exists(const Digest& d) override {
    ++exists_calls;
    return inner_->Exists(d);
  }
  Result<uint64_t> Size(const Digest& d) override { return inner_->Size(d); }
  Result<std::vector<ArtifactInfo>> List() override { return inner_->List(); }
  Status Delete(const Digest& d) override { return inner_->Delete(d); }
  bool IsRemote() const override { return true; }

  std::atomic<int> exists_calls{0};

 private:
  std::unique_ptr<ArtifactStore> inner_;
};

class StorageSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kiln-storage-set-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::vector<StorageBackend> backends;
    for (const char* name : {"default", "archive"}) {
      auto s = LocalArtifactStore::Open(dir_ / name);
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      backends.push_back({name, "local", std::move(*s), 0});
    }
    auto set = StorageSet::Create(std::move(backends), dir_ / "scratch");
    ASSERT_TRUE(set.ok()) << set.status().ToString();
    set_ = std::move(*set);
  }
  void TearDown() override { fs::remove_all(dir_); }

  ArtifactStore& Named(const std::string& name) { return **set_->Backend(name); }
  fs::path File(const std::string& data) {
    fs::path p = dir_ / ("file-" + std::to_string(files_++));
    std::ofstream(p, std::ios::binary) << data;
    return p;
  }
  std::string Read(const Digest& d) {
    std::ostringstream out;
    Status st = set_->GetToStream(d, out);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out.str();
  }
  std::vector<std::string> Where(const Digest& d) {
    auto w = set_->Where(d);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    return w.ok() ? *w : std::vector<std::string>{};
  }

  fs::path dir_;
  std::unique_ptr<StorageSet> set_;
  int files_ = 0;
};

using Names = std::vector<std::string>;

TEST_F(StorageSetTest, PutsGoToTheDefaultOrTheNamedBackend) {
  auto a = set_->PutFile(File("alpha"));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(Where(a->digest), Names{"default"});
  auto b = set_->PutFileTo("archive", File("beta"));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(Where(b->digest), Names{"archive"});
  EXPECT_TRUE(*Named("archive").Exists(b->digest));
  EXPECT_FALSE(*Named("default").Exists(b->digest));

  auto writer = set_->NewWriterTo("archive");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write("gamma", 5).ok());
  auto c = (*writer)->Commit();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(Where(c->digest), Names{"archive"});

  auto unknown = set_->PutFileTo("tape", File("x"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(unknown.status().message(),
            "no storage backend named 'tape' (this server has: default, archive)");
}

TEST_F(StorageSetTest, ReadsFindTheBackendThatHoldsIt) {
  auto b = set_->PutFileTo("archive", File("only in the archive"));
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(*set_->Exists(b->digest));
  EXPECT_EQ(*set_->Size(b->digest), 19u);
  EXPECT_EQ(Read(b->digest), "only in the archive");
  auto path = set_->Materialize(b->digest, dir_ / "scratch");
  ASSERT_TRUE(path.ok());
  std::ifstream in(*path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "only in the archive");
  EXPECT_FALSE(*set_->IsRemoteFor(b->digest));
  // Local backends give no download URL: the server streams.
  EXPECT_EQ(set_->DownloadUrl(b->digest, 60).status().code(), Code::kFailedPrecondition);

  Digest missing = Digest::Of("nowhere");
  EXPECT_FALSE(*set_->Exists(missing));
  EXPECT_EQ(set_->Size(missing).status().code(), Code::kNotFound);
  std::ostringstream out;
  EXPECT_EQ(set_->GetToStream(missing, out).code(), Code::kNotFound);
  EXPECT_TRUE(Where(missing).empty());
}

TEST_F(StorageSetTest, MoveThereAndBackKeepsTheDigestAndBytes) {
  std::string data(300000, 'k');
  for (size_t i = 0; i < data.size(); ++i) data[i] = char('a' + i * 7 % 26);
  auto a = set_->PutFile(File(data));
  ASSERT_TRUE(a.ok());

  auto there = set_->Move(a->digest, "archive");
  ASSERT_TRUE(there.ok()) << there.status().ToString();
  EXPECT_TRUE(there->changed);
  EXPECT_EQ(there->stores, Names{"archive"});
  EXPECT_EQ(there->size, data.size());
  EXPECT_FALSE(*Named("default").Exists(a->digest));
  EXPECT_EQ(Read(a->digest), data);

  // Again: already there, nothing to do.
  auto again = set_->Move(a->digest, "archive");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->changed);
  EXPECT_EQ(again->stores, Names{"archive"});

  auto back = set_->Move(a->digest, "default");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->stores, Names{"default"});
  EXPECT_FALSE(*Named("archive").Exists(a->digest));
  std::ostringstream out;
  ASSERT_TRUE(Named("default").GetToStream(a->digest, out).ok());
  EXPECT_EQ(Digest::Of(out.str()), a->digest);
}

TEST_F(StorageSetTest, CopyLeavesItInBothAndMoveFromBothKeepsOne) {
  auto a = set_->PutFile(File("copied"));
  ASSERT_TRUE(a.ok());
  auto copy = set_->Copy(a->digest, "archive");
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_TRUE(copy->changed);
  EXPECT_EQ(copy->stores, (Names{"default", "archive"}));
  auto same = set_->Copy(a->digest, "archive");
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same->changed);

  // Listed once, with both copies counted as one artifact.
  auto list = set_->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].digest, a->digest);

  // In both: a move to one deletes the other copy.
  auto move = set_->Move(a->digest, "default");
  ASSERT_TRUE(move.ok());
  EXPECT_TRUE(move->changed);
  EXPECT_EQ(move->stores, Names{"default"});

  EXPECT_EQ(set_->Copy(Digest::Of("none"), "archive").status().code(), Code::kNotFound);
  EXPECT_EQ(set_->Move(a->digest, "tape").status().code(), Code::kInvalidArgument);
}

TEST_F(StorageSetTest, ListAndDeleteSeeEveryBackend) {
  auto a = set_->PutFile(File("a"));
  auto b = set_->PutFileTo("archive", File("b"));
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(set_->Copy(a->digest, "archive").ok());
  auto list = set_->List();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 2u);
  // Delete (gc) removes it wherever it lives.
  ASSERT_TRUE(set_->Delete(a->digest).ok());
  EXPECT_TRUE(Where(a->digest).empty());
  ASSERT_TRUE(set_->Delete(b->digest).ok());
  EXPECT_EQ(set_->Delete(b->digest).code(), Code::kNotFound);
  EXPECT_TRUE(set_->List()->empty());
}

TEST_F(StorageSetTest, WhereManyAnswersInOrderFromSeveralThreads) {
  std::vector<Digest> digests;
  std::vector<Names> wanted;
  for (int i = 0; i < 40; ++i) {
    std::string data = "artifact " + std::to_string(i);
    Result<ArtifactInfo> put = i % 3 == 0   ? set_->PutFileTo("archive", File(data))
                               : i % 3 == 1 ? set_->PutFile(File(data))
                                            : Result<ArtifactInfo>(ArtifactInfo{Digest::Of(data)});
    ASSERT_TRUE(put.ok());
    digests.push_back(put->digest);
    wanted.push_back(i % 3 == 0 ? Names{"archive"} : i % 3 == 1 ? Names{"default"} : Names{});
  }
  auto where = set_->WhereMany(digests, 7);
  ASSERT_TRUE(where.ok()) << where.status().ToString();
  EXPECT_EQ(*where, wanted);
  EXPECT_TRUE(set_->WhereMany({})->empty());
}

TEST_F(StorageSetTest, ConcurrentMovesLeaveExactlyOneCopy) {
  auto a = set_->PutFile(File("contended"));
  ASSERT_TRUE(a.ok());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto r = set_->Move(a->digest, i % 2 ? "archive" : "default");
      if (!r.ok()) ++failures;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Where(a->digest).size(), 1u);
  EXPECT_EQ(Read(a->digest), "contended");
}

TEST(StorageSetRemote, WhereManyAsksARemoteBackendFromSeveralThreadsInOrder) {
  fs::path dir =
      fs::temp_directory_path() / ("kiln-storage-set-remote-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  std::vector<StorageBackend> backends;
  auto local = LocalArtifactStore::Open(dir / "local");
  auto inner = LocalArtifactStore::Open(dir / "remote");
  ASSERT_TRUE(local.ok() && inner.ok());
  auto remote = std::make_unique<RemoteLooking>(std::move(*inner));
  RemoteLooking* seen = remote.get();
  backends.push_back({"default", "local", std::move(*local), 0});
  backends.push_back({"far", "s3", std::move(remote), 60});
  auto set = StorageSet::Create(std::move(backends), dir / "scratch");
  ASSERT_TRUE(set.ok());
  std::vector<Digest> digests;
  std::vector<Names> wanted;
  for (int i = 0; i < 50; ++i) {
    std::string data = "far or near " + std::to_string(i);
    fs::path file = dir / "file";
    std::ofstream(file, std::ios::binary | std::ios::trunc) << data;
    auto put = i % 2 ? (*set)->PutFileTo("far", file) : (*set)->PutFile(file);
    ASSERT_TRUE(put.ok());
    digests.push_back(put->digest);
    wanted.push_back(i % 2 ? Names{"far"} : Names{"default"});
  }
  auto where = (*set)->WhereMany(digests, 8);
  ASSERT_TRUE(where.ok()) << where.status().ToString();
  EXPECT_EQ(*where, wanted);
  EXPECT_EQ(seen->exists_calls.load(), 50);  // each digest asked once
  EXPECT_TRUE((*set)->IsRemote());
  EXPECT_TRUE(*(*set)->IsRemoteFor(digests[1]));
  EXPECT_FALSE(*(*set)->IsRemoteFor(digests[0]));
  fs::remove_all(dir);
}

TEST(StorageSetCreate, RefusesRepeatedOrMissingNames) {
  fs::path dir =
      fs::temp_directory_path() / ("kiln-storage-set-create-" + std::to_string(::getpid()));
  std::vector<StorageBackend> twice;
  for (int i = 0; i < 2; ++i) {
    auto s = LocalArtifactStore::Open(dir / std::to_string(i));
    ASSERT_TRUE(s.ok());
    twice.push_back({"same", "local", std::move(*s), 0});
  }
  auto r = StorageSet::Create(std::move(twice), dir / "scratch");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "storage: two backends are named 'same'");
  EXPECT_FALSE(StorageSet::Create({}, dir).ok());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kiln
