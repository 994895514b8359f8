// S3Client: the few S3 calls Kiln's artifact store needs (docs/storage.md,
// "S3"), over libcurl with SigV4 (sigv4.h). Path-style URLs
// (<endpoint>/<bucket>/<key>), which every S3-compatible store accepts.
// Bodies stream from and to files or callbacks, never whole in memory.
//
// Errors name the cause, from the store's own error document where there is
// one: wrong keys (PermissionDenied, "SignatureDoesNotMatch" /
// "InvalidAccessKeyId"), a missing bucket (NotFound, "NoSuchBucket"), this
// clock off by more than 15 minutes (FailedPrecondition,
// "RequestTimeTooSkewed"), a store that is down (Unavailable).
//
// Ownership: values; a fresh curl handle per call. Thread-safety: every
// method is safe from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "storage/s3/sigv4.h"

namespace kiln {

struct S3Location {
  std::string endpoint;  // "http://127.0.0.1:7480", "https://s3.eu-west-1.amazonaws.com"
  std::string bucket;
  S3Credentials credentials;
  // The time requests are signed with; default the system clock (tests
  // pass one that is off, to see the store's skew error).
  std::function<std::time_t()> now;
};

class S3Client {
 public:
  explicit S3Client(S3Location location);

  // Checks that the bucket exists and the keys are accepted (HEAD bucket).
  Status CheckBucket() const;
  // The object's size, or nullopt when there is none.
  Result<std::optional<uint64_t>> Head(const std::string& key) const;
  // One PUT of `length` bytes of `file` from `offset`.
  Status PutFile(const std::string& key, const std::filesystem::path& file, uint64_t offset,
                 uint64_t length) const;
  Result<std::string> CreateMultipart(const std::string& key) const;  // the upload id
  // Returns the part's ETag.
  Result<std::string> UploadPart(const std::string& key, const std::string& upload_id, int part,
                                 const std::filesystem::path& file, uint64_t offset,
                                 uint64_t length) const;
  Status CompleteMultipart(const std::string& key, const std::string& upload_id,
                           const std::vector<std::string>& etags) const;
  Status AbortMultipart(const std::string& key, const std::string& upload_id) const;
  // Streams the object into `sink` (an error from the sink aborts).
  Status Get(const std::string& key, const std::function<Status(const char*, size_t)>& sink) const;
  Status Delete(const std::string& key) const;
  struct Object {
    std::string key;
    uint64_t size = 0;
    int64_t modified_ms = 0;  // LastModified
  };
  // Every object under `prefix`, in key order (all pages).
  Result<std::vector<Object>> List(const std::string& prefix) const;
  // Multipart uploads begun under `prefix` and not completed: (key, upload id, initiated).
  struct Upload {
    std::string key, upload_id, initiated;
  };
  Result<std::vector<Upload>> ListUploads(const std::string& prefix) const;
  // A URL anyone may GET the object with, for `expires_s` seconds.
  std::string Presign(const std::string& key, int64_t expires_s) const;

  const S3Location& location() const { return location_; }

 private:
  struct Call;
  Status Perform(Call& call) const;
  std::string Path(const std::string& key) const;

  S3Location location_;
  std::string host_;
};

// The error document's <Code> and <Message> as a Status (exposed for tests).
Status S3Error(long http_status, const std::string& body, const std::string& what);

}  // namespace kiln
