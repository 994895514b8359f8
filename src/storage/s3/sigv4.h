// SigV4: AWS Signature Version 4 for S3 requests (docs/storage.md, "S3"),
// decided without any I/O: the canonical request, the string to sign, the
// Authorization header, and presigned URLs. Pure functions; the caller
// supplies the time, so tests pin it to AWS's published examples.
//
// Thread-safety: reentrant (OpenSSL's one-shot HMAC and digest).
#pragma once

#include <cstdint>
#include <ctime>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiln {

struct S3Credentials {
  std::string access_key;
  std::string secret_key;
  std::string region = "us-east-1";
};

// The SHA-256 of an empty body, hex: the payload hash of GET, HEAD, DELETE.
inline constexpr const char* kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
// For a body whose hash is not computed ahead (streamed parts).
inline constexpr const char* kUnsignedPayload = "UNSIGNED-PAYLOAD";

// "20130524T000000Z".
std::string AmzDate(std::time_t t);
// RFC 3986 encoding as SigV4 wants it: every byte but A-Z a-z 0-9 - _ . ~
// is %XX (upper-case hex); '/' too unless `keep_slash` (object key paths).
std::string SigV4Encode(std::string_view s, bool keep_slash);
std::string Sha256Hex(std::string_view data);

// One request to sign. `path` is the URI path as sent (already encoded with
// SigV4Encode(…, true)); `query` the decoded parameters; `headers` the
// headers to sign, names in lower case (host and x-amz-date at least;
// x-amz-content-sha256 for S3).
struct SigV4Request {
  std::string method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
  std::map<std::string, std::string> headers;
  std::string payload_hash = kEmptyPayloadSha256;
};

// The canonical request and the string to sign, exposed for tests and for
// the message when a store says SignatureDoesNotMatch.
std::string CanonicalRequest(const SigV4Request& r);
std::string StringToSign(const SigV4Request& r, const std::string& amz_date,
                         const std::string& region);
// The Authorization header's value for `r` signed at `amz_date`.
std::string SigV4Authorization(const SigV4Request& r, const S3Credentials& c,
                               const std::string& amz_date);

// A presigned URL: anyone holding it may make this request (a GET of one
// object) until `expires_s` after `amz_date`, without credentials.
// `endpoint` is "http(s)://host[:port]"; `path` as in SigV4Request.
std::string PresignedUrl(const std::string& method, const std::string& endpoint,
                         const std::string& path, const S3Credentials& c,
                         const std::string& amz_date, int64_t expires_s);

}  // namespace kiln
