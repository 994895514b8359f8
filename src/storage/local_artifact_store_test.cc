#include "storage/local_artifact_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace kiln {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const fs::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << data;
}

class LocalArtifactStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kiln-storage-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto s = LocalArtifactStore::Open(dir_ / "artifacts");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::unique_ptr<LocalArtifactStore> store_;
};

TEST_F(LocalArtifactStoreTest, PutFileIsContentAddressed) {
  WriteFile(dir_ / "a", "hello");
  auto info = store_->PutFile(dir_ / "a");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->digest, Digest::Of("hello"));
  EXPECT_EQ(info->size, 5u);
  std::string hex = Digest::Of("hello").Hex();
  EXPECT_EQ(store_->PathOf(info->digest), dir_ / "artifacts" / hex.substr(0, 2) / hex);
  EXPECT_EQ(ReadFile(store_->PathOf(info->digest)), "hello");
  EXPECT_TRUE(*store_->Exists(info->digest));
  EXPECT_EQ(*store_->Size(info->digest), 5u);
  // Same content again: same digest, still one file.
  WriteFile(dir_ / "b", "hello");
  EXPECT_EQ(store_->PutFile(dir_ / "b")->digest, info->digest);
  EXPECT_EQ(store_->List()->size(), 1u);
  // No temp files are left behind.
  EXPECT_TRUE(fs::is_empty(dir_ / "artifacts" / "tmp"));
  EXPECT_EQ(store_->PutFile(dir_ / "missing").status().code(), Code::kNotFound);
}

TEST_F(LocalArtifactStoreTest, StreamsRoundTrip) {
  std::string big(3 << 20, 'x');  // several chunks
  for (size_t i = 0; i < big.size(); i += 4093) big[i] = char(i);
  std::istringstream in(big);
  auto info = store_->PutStream(in);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->digest, Digest::Of(big));
  std::ostringstream out;
  ASSERT_TRUE(store_->GetToStream(info->digest, out).ok());
  EXPECT_EQ(out.str(), big);
  ASSERT_TRUE(store_->GetToFile(info->digest, dir_ / "copy").ok());
  EXPECT_EQ(ReadFile(dir_ / "copy"), big);
  auto path = store_->Materialize(info->digest, dir_);
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(ReadFile(*path), big);
}

TEST_F(LocalArtifactStoreTest, ListAndDelete) {
  std::istringstream a("a"), b("b");
  Digest da = store_->PutStream(a)->digest, db = store_->PutStream(b)->digest;
  auto list = store_->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_LT((*list)[0].digest, (*list)[1].digest);
  ASSERT_TRUE(store_->Delete(da).ok());
  EXPECT_FALSE(*store_->Exists(da));
  EXPECT_TRUE(*store_->Exists(db));
  EXPECT_EQ(store_->Delete(da).code(), Code::kNotFound);
  EXPECT_EQ(store_->Size(da).status().code(), Code::kNotFound);
  std::ostringstream out;
  EXPECT_EQ(store_->GetToStream(da, out).code(), Code::kNotFound);
  EXPECT_EQ(store_->Materialize(da, dir_).status().code(), Code::kNotFound);
}

TEST_F(LocalArtifactStoreTest, CorruptionIsDetectedOnRead) {
  std::istringstream in("precious weights");
  Digest d = store_->PutStream(in)->digest;
  // Verified once (remembered)...
  ASSERT_TRUE(store_->Materialize(d, dir_).ok());
  // ...then a byte flips on disk.
  std::string path = store_->PathOf(d);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3);
    f.put('X');
  }
  // Make sure the stamp differs even on a coarse-mtime file system.
  fs::last_write_time(path, fs::last_write_time(path) + std::chrono::seconds(1));
  std::ostringstream out;
  Status st = store_->GetToStream(d, out);
  EXPECT_EQ(st.code(), Code::kCorruption) << st.ToString();
  EXPECT_NE(st.message().find("corrupted"), std::string::npos);
  EXPECT_EQ(store_->GetToFile(d, dir_ / "out").code(), Code::kCorruption);
  EXPECT_FALSE(fs::exists(dir_ / "out"));  // nothing half-verified left behind
  EXPECT_EQ(store_->Materialize(d, dir_).status().code(), Code::kCorruption);
  // Putting the true content back heals it.
  std::istringstream again("precious weights");
  ASSERT_TRUE(store_->PutStream(again).ok());
  EXPECT_TRUE(store_->Materialize(d, dir_).ok());
}

TEST_F(LocalArtifactStoreTest, ReopenCleansTempFiles) {
  WriteFile(dir_ / "artifacts" / "tmp" / ".tmp-crashed", "partial");
  auto s = LocalArtifactStore::Open(dir_ / "artifacts");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(fs::is_empty(dir_ / "artifacts" / "tmp"));
  EXPECT_TRUE((*s)->List()->empty());
}

}  // namespace
}  // namespace kiln
