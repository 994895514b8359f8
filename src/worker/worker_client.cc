#include "worker/worker_client.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

namespace kiln {

namespace fs = std::filesystem;

namespace {

struct CurlInit {
  CurlInit() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

struct Easy {
  CURL* curl = nullptr;
  curl_slist* headers = nullptr;
  Easy() {
    static CurlInit once;
    curl = curl_easy_init();
  }
  ~Easy() {
    if (headers) curl_slist_free_all(headers);
    if (curl) curl_easy_cleanup(curl);
  }
  void Header(const std::string& h) { headers = curl_slist_append(headers, h.c_str()); }
};

// Where a response body goes: memory for JSON answers, a file (hashed) for
// a successful download.
struct Receiver {
  std::string text;
  FILE* file = nullptr;
  EVP_MD_CTX* sha = nullptr;
  bool to_file = false;  // decided once the status is known
  bool write_failed = false;
};

size_t Receive(char* data, size_t size, size_t n, void* p) {
  auto* r = static_cast<Receiver*>(p);
  size_t bytes = size * n;
  if (r->to_file) {
    if (std::fwrite(data, 1, bytes, r->file) != bytes) {
      r->write_failed = true;
      return 0;  // aborts the transfer
    }
    if (r->sha) EVP_DigestUpdate(r->sha, data, bytes);
    return bytes;
  }
  if (r->text.size() + bytes > (size_t(4) << 20)) return 0;  // an error page is small
  r->text.append(data, bytes);
  return bytes;
}

size_t ReadFile(char* buffer, size_t size, size_t n, void* f) {
  return std::fread(buffer, 1, size * n, static_cast<FILE*>(f));
}

Result<WorkerAnswer> Perform(Easy& e, const std::string& url, Receiver& r,
                             const std::atomic<bool>* abort) {
  curl_easy_setopt(e.curl, CURLOPT_URL, url.c_str());
  if (abort) {
    curl_easy_setopt(e.curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e.curl, CURLOPT_XFERINFODATA, abort);
    curl_easy_setopt(
        e.curl, CURLOPT_XFERINFOFUNCTION,
        +[](void* p, curl_off_t, curl_off_t, curl_off_t, curl_off_t) -> int {
          return static_cast<const std::atomic<bool>*>(p)->load() ? 1 : 0;
        });
  }
  curl_easy_setopt(e.curl, CURLOPT_HTTPHEADER, e.headers);
  curl_easy_setopt(e.curl, CURLOPT_WRITEFUNCTION, Receive);
  curl_easy_setopt(e.curl, CURLOPT_WRITEDATA, &r);
  curl_easy_setopt(e.curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e.curl, CURLOPT_CONNECTTIMEOUT, 10L);
  // A stalled connection (the network dropped) is given up after 30 s
  // without progress, whatever the size of the transfer.
  curl_easy_setopt(e.curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(e.curl, CURLOPT_LOW_SPEED_TIME, 30L);
  CURLcode rc = curl_easy_perform(e.curl);
  if (r.write_failed) return IOError("cannot write the download to disk");
  if (rc != CURLE_OK) return IOError(std::string(curl_easy_strerror(rc)) + " (" + url + ")");
  WorkerAnswer a;
  curl_easy_getinfo(e.curl, CURLINFO_RESPONSE_CODE, &a.status);
  a.body = nlohmann::json::parse(r.text, nullptr, false);
  if (a.body.is_discarded()) a.body = nullptr;
  return a;
}

}  // namespace

std::string WorkerAnswer::Message() const {
  if (status >= 200 && status < 300) return "";
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    return body["error"].value("message", "HTTP " + std::to_string(status));
  }
  return "HTTP " + std::to_string(status);
}

WorkerClient::WorkerClient(std::string server, const std::atomic<bool>* abort)
    : server_(std::move(server)), abort_(abort) {
  while (!server_.empty() && server_.back() == '/') server_.pop_back();
}

Result<WorkerAnswer> WorkerClient::Post(const std::string& path, const std::string& bearer,
                                        const std::string& body, const std::string& content_type,
                                        const std::vector<std::string>& headers) const {
  Easy e;
  if (!e.curl) return Internal("libcurl failed to initialise");
  e.Header("Authorization: Bearer " + bearer);
  e.Header("Content-Type: " + content_type);
  for (const std::string& h : headers) e.Header(h);
  curl_easy_setopt(e.curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(e.curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.size()));
  curl_easy_setopt(e.curl, CURLOPT_TIMEOUT, 120L);
  Receiver r;
  return Perform(e, server_ + path, r, abort_);
}

Result<WorkerAnswer> WorkerClient::Download(const std::string& path, const std::string& bearer,
                                            const fs::path& file, const std::string& sha256) const {
  Easy e;
  if (!e.curl) return Internal("libcurl failed to initialise");
  e.Header("Authorization: Bearer " + bearer);
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  // Unique per call: jobs fetching the same input at once never share it.
  static std::atomic<uint64_t> counter{0};
  fs::path temp =
      file.string() + ".part-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  Receiver r;
  r.file = std::fopen(temp.c_str(), "wb");
  if (!r.file) return IOError("cannot create " + temp.string());
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> sha(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(sha.get(), EVP_sha256(), nullptr);
  r.sha = sha.get();
  // Only a 200's body goes to the file; an error's is read as JSON.
  curl_easy_setopt(
      e.curl, CURLOPT_HEADERFUNCTION, +[](char* data, size_t size, size_t n, void* p) -> size_t {
        std::string_view line(data, size * n);
        if (line.starts_with("HTTP/")) {
          auto* rec = static_cast<Receiver*>(p);
          size_t sp = line.find(' ');
          rec->to_file = sp != std::string_view::npos && line.substr(sp + 1, 3) == "200";
        }
        return size * n;
      });
  curl_easy_setopt(e.curl, CURLOPT_HEADERDATA, &r);
  Result<WorkerAnswer> a = Perform(e, server_ + path, r, abort_);
  bool closed = std::fclose(r.file) == 0;
  auto discard = [&] { fs::remove(temp, ec); };
  if (!a.ok() || a->status != 200) {
    discard();
    return a;
  }
  if (!closed) {
    discard();
    return IOError("cannot write " + temp.string());
  }
  unsigned char md[32];
  unsigned int len = 0;
  EVP_DigestFinal_ex(sha.get(), md, &len);
  if (!sha256.empty()) {
    static const char* hex = "0123456789abcdef";
    std::string got;
    for (unsigned i = 0; i < len; ++i) {
      got += hex[md[i] >> 4];
      got += hex[md[i] & 15];
    }
    if (got != sha256) {
      discard();
      return Corruption("the download of " + path + " has SHA-256 " + got + ", expected " + sha256);
    }
  }
  fs::rename(temp, file, ec);
  if (ec) {
    discard();
    return IOError("cannot move the download to " + file.string() + ": " + ec.message());
  }
  return a;
}

Result<WorkerAnswer> WorkerClient::Upload(const std::string& path, const std::string& bearer,
                                          const fs::path& file) const {
  Easy e;
  if (!e.curl) return Internal("libcurl failed to initialise");
  std::unique_ptr<FILE, int (*)(FILE*)> in(std::fopen(file.c_str(), "rb"), std::fclose);
  if (!in) return IOError("cannot read " + file.string());
  std::error_code ec;
  uint64_t size = fs::file_size(file, ec);
  if (ec) return IOError("cannot read " + file.string() + ": " + ec.message());
  e.Header("Authorization: Bearer " + bearer);
  e.Header("Content-Type: application/octet-stream");
  curl_easy_setopt(e.curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(e.curl, CURLOPT_READFUNCTION, ReadFile);
  curl_easy_setopt(e.curl, CURLOPT_READDATA, in.get());
  curl_easy_setopt(e.curl, CURLOPT_INFILESIZE_LARGE, curl_off_t(size));
  Receiver r;
  return Perform(e, server_ + path, r, abort_);
}

}  // namespace kiln
