// S3ArtifactStore against a real S3 store: Ceph's radosgw, started by
// tests/s3 (pytest), which runs this binary with the store's address, keys
// and a fresh bucket in the environment:
//   KILN_TEST_S3_ENDPOINT, KILN_TEST_S3_BUCKET, KILN_TEST_S3_ACCESS_KEY,
//   KILN_TEST_S3_SECRET_KEY, KILN_TEST_S3_REGION
// Not registered with ctest: without a store it has nothing to talk to.
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "storage/artifact_copy.h"
#include "storage/local_artifact_store.h"
#include "storage/s3/s3_artifact_store.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

class S3StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Env("KILN_TEST_S3_ENDPOINT").empty()) {
      GTEST_FAIL() << "run through tests/s3 (pytest), which starts radosgw and sets KILN_TEST_S3_*";
    }
    dir_ = fs::temp_directory_path() /
           ("kiln-s3-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  S3StoreOptions Options(const std::string& prefix) {
    S3StoreOptions o;
    o.location.endpoint = Env("KILN_TEST_S3_ENDPOINT");
    o.location.bucket = Env("KILN_TEST_S3_BUCKET");
    o.location.credentials = {Env("KILN_TEST_S3_ACCESS_KEY"), Env("KILN_TEST_S3_SECRET_KEY"),
                              Env("KILN_TEST_S3_REGION")};
    o.prefix = prefix + "/";
    o.part_size = 5ull << 20;
    o.staging_dir = dir_ / "staging";
    return o;
  }
  std::unique_ptr<S3ArtifactStore> Open(const std::string& prefix) {
    auto s = S3ArtifactStore::Open(Options(prefix));
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  // `mib` MiB of pseudo-random bytes (seeded: reproducible), and their digest.
  std::string Bytes(size_t mib, uint32_t seed) {
    std::string out(mib << 20, '\0');
    std::mt19937 rng(seed);
    for (size_t i = 0; i < out.size(); i += 4) {
      uint32_t v = rng();
      std::memcpy(&out[i], &v, std::min<size_t>(4, out.size() - i));
    }
    return out;
  }
  fs::path dir_;
};

TEST_F(S3StoreTest, A64MiBArtifactGoesUpInPartsAndComesBackVerified) {
  auto store = Open("big");
  ASSERT_TRUE(store);
  std::string bytes = Bytes(64, 1);
  auto writer = store->NewWriter();
  ASSERT_TRUE(writer.ok());
  for (size_t i = 0; i < bytes.size(); i += 1000003) {  // pieces as an HTTP upload brings them
    ASSERT_TRUE(
        (*writer)->Write(bytes.data() + i, std::min<size_t>(1000003, bytes.size() - i)).ok());
  }
  auto info = (*writer)->Commit();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->digest, Digest::Of(bytes));  // the content's SHA-256, not an ETag
  EXPECT_EQ(info->size, bytes.size());
  EXPECT_EQ(store->uploads(), 1u);
  auto listed = store->List();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].digest, info->digest);
  EXPECT_EQ(*store->Size(info->digest), bytes.size());
  std::ostringstream out;
  ASSERT_TRUE(store->GetToStream(info->digest, out).ok());
  EXPECT_TRUE(out.str() == bytes);
  auto path = store->Materialize(info->digest, dir_ / "scratch");
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(fs::file_size(*path), bytes.size());
  // The same bytes again: nothing is uploaded (a HEAD finds them).
  std::istringstream again(bytes);
  auto second = store->PutStream(again);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->digest, info->digest);
  EXPECT_EQ(store->uploads(), 1u);
  // Deleted: gone, and deleting again says so.
  ASSERT_TRUE(store->Delete(info->digest).ok());
  EXPECT_FALSE(*store->Exists(info->digest));
  EXPECT_EQ(store->Delete(info->digest).code(), Code::kNotFound);
  EXPECT_EQ(store->GetToStream(info->digest, out).code(), Code::kNotFound);
}

TEST_F(S3StoreTest, AWrongSecretIsRefusedWithTheStoresError) {
  S3StoreOptions o = Options("wrong");
  o.location.credentials.secret_key = "not-the-secret";
  auto s = S3ArtifactStore::Open(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kPermissionDenied) << s.status().ToString();
  EXPECT_NE(s.status().message().find("SignatureDoesNotMatch"), std::string::npos)
      << s.status().message();
}

TEST_F(S3StoreTest, AMissingBucketAndAStoreThatIsDownAreNamed) {
  S3StoreOptions o = Options("missing");
  o.location.bucket = "no-such-bucket-here";
  auto s = S3ArtifactStore::Open(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kNotFound);
  EXPECT_NE(s.status().message().find("no-such-bucket-here"), std::string::npos);
  o = Options("down");
  o.location.endpoint = "http://127.0.0.1:9";  // nothing listens there
  s = S3ArtifactStore::Open(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kUnavailable) << s.status().ToString();
  EXPECT_NE(s.status().message().find("cannot reach the S3 store"), std::string::npos);
}

TEST_F(S3StoreTest, AClockOffByAnHourIsNamed) {
  S3StoreOptions o = Options("skew");
  o.location.now = [] { return std::time(nullptr) + 3600; };
  auto s = S3ArtifactStore::Open(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kFailedPrecondition) << s.status().ToString();
  EXPECT_NE(s.status().message().find("RequestTimeTooSkewed"), std::string::npos)
      << s.status().message();
}

// A child process uploads a large artifact and is killed in the middle:
// nothing is listed, and the next store opened on the bucket aborts the
// multipart upload it left.
TEST_F(S3StoreTest, AnUploadKilledHalfwayLeavesNothingListed) {
  auto store = Open("killed");
  ASSERT_TRUE(store);
  fs::path file = dir_ / "big";
  {
    std::ofstream out(file, std::ios::binary);
    std::string bytes = Bytes(80, 2);
    out << bytes;
  }
  pid_t child = ::fork();
  if (child == 0) {
    auto s = S3ArtifactStore::Open(Options("killed"));
    if (s.ok()) (void)(*s)->PutFile(file);
    ::_exit(0);
  }
  // Wait until its multipart upload has begun, then kill it.
  S3Client client(Options("killed").location);
  bool begun = false;
  for (int i = 0; i < 600 && !begun; ++i) {
    auto uploads = client.ListUploads("killed/");
    begun = uploads.ok() && !uploads->empty();
    if (!begun) ::usleep(50 * 1000);
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ASSERT_TRUE(begun) << "the child's multipart upload never showed";
  EXPECT_TRUE(store->List()->empty());
  S3StoreOptions o = Options("killed");
  o.stale_upload_s = 0;  // anything begun before now is stale
  auto next = S3ArtifactStore::Open(o);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_GE((*next)->stale_uploads_aborted(), 1u);
  EXPECT_TRUE(client.ListUploads("killed/")->empty());
  EXPECT_TRUE((*next)->List()->empty());
}

// Moving an artifact between a local folder and S3 keeps its digest.
TEST_F(S3StoreTest, AMoveFromLocalToS3AndBackKeepsTheDigest) {
  auto s3 = Open("move");
  ASSERT_TRUE(s3);
  auto local = LocalArtifactStore::Open(dir_ / "local");
  ASSERT_TRUE(local.ok());
  std::string bytes = Bytes(7, 3);
  std::istringstream in(bytes);
  auto put = (*local)->PutStream(in);
  ASSERT_TRUE(put.ok());
  auto moved = CopyArtifact(**local, *s3, put->digest, dir_ / "scratch");
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  ASSERT_TRUE((*local)->Delete(put->digest).ok());
  EXPECT_EQ(moved->digest, put->digest);
  auto back = CopyArtifact(*s3, **local, put->digest, dir_ / "scratch");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->digest, put->digest);
  std::ostringstream out;
  ASSERT_TRUE((*local)->GetToStream(put->digest, out).ok());
  EXPECT_TRUE(out.str() == bytes);
}

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

TEST_F(S3StoreTest, APresignedUrlDownloadsWithoutCredentials) {
  auto store = Open("presign");
  ASSERT_TRUE(store);
  std::string bytes = Bytes(1, 4);
  std::istringstream in(bytes);
  auto put = store->PutStream(in);
  ASSERT_TRUE(put.ok());
  auto url = store->DownloadUrl(put->digest, 300);
  ASSERT_TRUE(url.ok());
  CURL* curl = curl_easy_init();
  std::string got;
  curl_easy_setopt(curl, CURLOPT_URL, url->c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &got);
  ASSERT_EQ(curl_easy_perform(curl), CURLE_OK);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  EXPECT_EQ(status, 200) << got;
  EXPECT_TRUE(got == bytes);
  // Tampered with, it is refused.
  std::string bad = *url;
  bad.back() = bad.back() == '0' ? '1' : '0';
  curl = curl_easy_init();
  got.clear();
  curl_easy_setopt(curl, CURLOPT_URL, bad.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &got);
  ASSERT_EQ(curl_easy_perform(curl), CURLE_OK);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  EXPECT_EQ(status, 403) << got;
}

}  // namespace
}  // namespace kiln
