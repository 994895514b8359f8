#include "storage/s3/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

namespace kiln {

namespace {

std::string Hex(const unsigned char* p, size_t n) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out += kHex[p[i] >> 4];
    out += kHex[p[i] & 15];
  }
  return out;
}

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), int(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string Host(const std::string& endpoint) {
  size_t start = endpoint.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  size_t end = endpoint.find('/', start);
  return endpoint.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string Scope(const std::string& amz_date, const std::string& region) {
  return amz_date.substr(0, 8) + "/" + region + "/s3/aws4_request";
}

std::string SignedHeaders(const SigV4Request& r) {
  std::string out;
  for (const auto& [name, value] : r.headers) out += (out.empty() ? "" : ";") + name;
  return out;
}

std::string Signature(const SigV4Request& r, const S3Credentials& c, const std::string& amz_date) {
  std::string key = Hmac("AWS4" + c.secret_key, amz_date.substr(0, 8));
  key = Hmac(key, c.region);
  key = Hmac(key, "s3");
  key = Hmac(key, "aws4_request");
  std::string sig = Hmac(key, StringToSign(r, amz_date, c.region));
  return Hex(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
}

}  // namespace

std::string AmzDate(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string SigV4Encode(std::string_view s, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += char(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr);
  return Hex(out, len);
}

std::string CanonicalRequest(const SigV4Request& r) {
  std::vector<std::pair<std::string, std::string>> q;
  for (const auto& [k, v] : r.query) q.emplace_back(SigV4Encode(k, false), SigV4Encode(v, false));
  std::sort(q.begin(), q.end());
  std::string query;
  for (const auto& [k, v] : q) query += (query.empty() ? "" : "&") + k + "=" + v;
  std::string headers;
  for (const auto& [name, value] : r.headers) headers += name + ":" + Trim(value) + "\n";
  return r.method + "\n" + (r.path.empty() ? "/" : r.path) + "\n" + query + "\n" + headers + "\n" +
         SignedHeaders(r) + "\n" + r.payload_hash;
}

std::string StringToSign(const SigV4Request& r, const std::string& amz_date,
                         const std::string& region) {
  return "AWS4-HMAC-SHA256\n" + amz_date + "\n" + Scope(amz_date, region) + "\n" +
         Sha256Hex(CanonicalRequest(r));
}

std::string SigV4Authorization(const SigV4Request& r, const S3Credentials& c,
                               const std::string& amz_date) {
  return "AWS4-HMAC-SHA256 Credential=" + c.access_key + "/" + Scope(amz_date, c.region) +
         ",SignedHeaders=" + SignedHeaders(r) + ",Signature=" + Signature(r, c, amz_date);
}

std::string PresignedUrl(const std::string& method, const std::string& endpoint,
                         const std::string& path, const S3Credentials& c,
                         const std::string& amz_date, int64_t expires_s) {
  SigV4Request r;
  r.method = method;
  r.path = path;
  r.headers["host"] = Host(endpoint);
  r.payload_hash = kUnsignedPayload;
  r.query = {{"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
             {"X-Amz-Credential", c.access_key + "/" + Scope(amz_date, c.region)},
             {"X-Amz-Date", amz_date},
             {"X-Amz-Expires", std::to_string(expires_s)},
             {"X-Amz-SignedHeaders", "host"}};
  std::string query;
  for (const auto& [k, v] : r.query) {
    query += (query.empty() ? "" : "&") + SigV4Encode(k, false) + "=" + SigV4Encode(v, false);
  }
  std::string base = endpoint;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + path + "?" + query + "&X-Amz-Signature=" + Signature(r, c, amz_date);
}

}  // namespace kiln
