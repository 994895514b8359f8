#include "storage/s3/s3_client.h"

#include <curl/curl.h>

#include <ctime>

#include <algorithm>
#include <cstdio>
#include <memory>

namespace kiln {

namespace fs = std::filesystem;

namespace {

struct CurlInit {
  CurlInit() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

std::string Unescape(std::string s) {
  static const std::pair<const char*, const char*> kEntities[] = {
      {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}, {"&amp;", "&"}};
  for (const auto& [from, to] : kEntities) {
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + 1)) {
      s.replace(p, std::string_view(from).size(), to);
    }
  }
  return s;
}

// The text of each <tag>…</tag> in `xml`, in order (S3's documents are flat
// enough for this; values are entity-decoded).
std::vector<std::string> Tags(const std::string& xml, const std::string& tag) {
  std::vector<std::string> out;
  std::string open = "<" + tag + ">", close = "</" + tag + ">";
  for (size_t p = xml.find(open); p != std::string::npos; p = xml.find(open, p)) {
    size_t start = p + open.size(), end = xml.find(close, start);
    if (end == std::string::npos) break;
    out.push_back(Unescape(xml.substr(start, end - start)));
    p = end + close.size();
  }
  return out;
}

std::string Tag(const std::string& xml, const std::string& tag) {
  auto all = Tags(xml, tag);
  return all.empty() ? "" : all.front();
}

std::string HostOf(const std::string& endpoint) {
  size_t start = endpoint.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  size_t end = endpoint.find('/', start);
  return endpoint.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace

Status S3Error(long http_status, const std::string& body, const std::string& what) {
  std::string code = Tag(body, "Code"), message = Tag(body, "Message");
  std::string detail = code.empty() ? "HTTP " + std::to_string(http_status)
                                    : code + (message.empty() ? "" : ": " + message);
  if (code == "SignatureDoesNotMatch" || code == "InvalidAccessKeyId" || code == "AccessDenied") {
    return Status(Code::kPermissionDenied, what + ": the S3 store refused the credentials (" +
                                               detail + "): check the access key and secret");
  }
  if (code == "NoSuchBucket") {
    return NotFound(what + ": the bucket does not exist (" + detail + ")");
  }
  if (code == "RequestTimeTooSkewed") {
    return FailedPrecondition(what +
                              ": this machine's clock differs from the S3 store's by too "
                              "much (" +
                              detail + "): set the clock (NTP)");
  }
  if (code == "NoSuchKey" || code == "NoSuchUpload" || http_status == 404) {
    return NotFound(what + ": " + detail);
  }
  if (code == "QuotaExceeded" || code == "EntityTooLarge") {
    return Status(Code::kInsufficientStorage, what + ": " + detail);
  }
  if (http_status >= 500 || code == "SlowDown" || code == "ServiceUnavailable") {
    return Unavailable(what + ": the S3 store is busy or failing (" + detail + ")");
  }
  return IOError(what + ": " + detail);
}

struct S3Client::Call {
  std::string method, key;  // key "" = the bucket itself
  std::vector<std::pair<std::string, std::string>> query;
  std::string payload_hash = kEmptyPayloadSha256;
  // The request body: a file range, or a string.
  const fs::path* file = nullptr;
  uint64_t offset = 0, length = 0;
  const std::string* body = nullptr;
  std::string content_type;
  // The response: a 2xx body goes to `sink` when set, else into `response`.
  const std::function<Status(const char*, size_t)>* sink = nullptr;
  std::string response;
  long status = 0;
  std::string etag;
  uint64_t content_length = 0;
  Status sink_status;
  bool to_sink = false;
};

S3Client::S3Client(S3Location location) : location_(std::move(location)) {
  while (!location_.endpoint.empty() && location_.endpoint.back() == '/') {
    location_.endpoint.pop_back();
  }
  host_ = HostOf(location_.endpoint);
}

std::string S3Client::Path(const std::string& key) const {
  return "/" + SigV4Encode(location_.bucket, false) +
         (key.empty() ? "" : "/" + SigV4Encode(key, true));
}

Status S3Client::Perform(Call& c) const {
  static CurlInit once;
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return Internal("libcurl failed to initialise");
  SigV4Request r;
  r.method = c.method;
  r.path = Path(c.key);
  r.query = c.query;
  r.payload_hash = c.payload_hash;
  std::string date = AmzDate(location_.now ? location_.now() : std::time(nullptr));
  r.headers = {{"host", host_}, {"x-amz-content-sha256", c.payload_hash}, {"x-amz-date", date}};
  std::string auth = SigV4Authorization(r, location_.credentials, date);
  std::string query;
  {
    auto q = c.query;
    std::sort(q.begin(), q.end());
    for (const auto& [k, v] : q) {
      query += (query.empty() ? "?" : "&") + SigV4Encode(k, false) + "=" + SigV4Encode(v, false);
    }
  }
  std::string url = location_.endpoint + r.path + query;
  curl_slist* headers = nullptr;
  auto add = [&](const std::string& h) { headers = curl_slist_append(headers, h.c_str()); };
  add("Authorization: " + auth);
  add("x-amz-date: " + date);
  add("x-amz-content-sha256: " + c.payload_hash);
  add("Expect:");  // no 100-continue round trip
  if (!c.content_type.empty()) add("Content-Type: " + c.content_type);
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> header_list(headers, curl_slist_free_all);
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
  std::unique_ptr<FILE, int (*)(FILE*)> in(nullptr, std::fclose);
  struct Reader {
    FILE* f;
    uint64_t left;
    const std::string* s;
    size_t pos;
  } reader{nullptr, 0, c.body, 0};
  if (c.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (c.file || c.body) {
    if (c.file) {
      in.reset(std::fopen(c.file->c_str(), "rb"));
      if (!in) return IOError("cannot read " + c.file->string());
      if (fseeko(in.get(), off_t(c.offset), SEEK_SET) != 0) {
        return IOError("cannot seek in " + c.file->string());
      }
      reader.f = in.get();
      reader.left = c.length;
    }
    uint64_t size = c.file ? c.length : c.body->size();
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, curl_off_t(size));
    curl_easy_setopt(h, CURLOPT_READDATA, &reader);
    curl_easy_setopt(
        h, CURLOPT_READFUNCTION, +[](char* buf, size_t size, size_t n, void* p) {
          auto* rd = static_cast<Reader*>(p);
          size_t want = size * n;
          if (rd->f) {
            want = size_t(std::min<uint64_t>(want, rd->left));
            size_t got = std::fread(buf, 1, want, rd->f);
            rd->left -= got;
            return got;
          }
          size_t got = std::min(want, rd->s->size() - rd->pos);
          std::copy_n(rd->s->data() + rd->pos, got, buf);
          rd->pos += got;
          return got;
        });
    if (c.method != "PUT") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c.method.c_str());
  } else if (c.method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c.method.c_str());
  }
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &c);
  curl_easy_setopt(
      h, CURLOPT_HEADERFUNCTION, +[](char* data, size_t size, size_t n, void* p) {
        auto* call = static_cast<Call*>(p);
        std::string line(data, size * n);
        while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
        if (line.starts_with("HTTP/")) {
          size_t sp = line.find(' ');
          call->status = sp == std::string::npos ? 0 : std::atol(line.c_str() + sp + 1);
          call->to_sink = call->sink && call->status >= 200 && call->status < 300;
          call->etag.clear();
        }
        size_t colon = line.find(':');
        if (colon != std::string::npos) {
          std::string name = line.substr(0, colon);
          std::transform(name.begin(), name.end(), name.begin(), ::tolower);
          std::string value = line.substr(colon + 1);
          value.erase(0, value.find_first_not_of(' '));
          if (name == "etag") call->etag = value;
          if (name == "content-length")
            call->content_length = std::strtoull(value.c_str(), nullptr, 10);
        }
        return size * n;
      });
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &c);
  curl_easy_setopt(
      h, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t n, void* p) {
        auto* call = static_cast<Call*>(p);
        size_t bytes = size * n;
        if (call->to_sink) {
          call->sink_status = (*call->sink)(data, bytes);
          return call->sink_status.ok() ? bytes : size_t(0);
        }
        if (call->response.size() + bytes > (size_t(8) << 20))
          return size_t(0);  // a document is small
        call->response.append(data, bytes);
        return bytes;
      });
  CURLcode rc = curl_easy_perform(h);
  std::string what = c.method + " " + location_.endpoint + r.path;
  if (!c.sink_status.ok()) return c.sink_status;
  if (rc != CURLE_OK) {
    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
        rc == CURLE_OPERATION_TIMEDOUT) {
      return Unavailable(what + ": cannot reach the S3 store (" + curl_easy_strerror(rc) + ")");
    }
    return IOError(what + ": " + curl_easy_strerror(rc));
  }
  if (c.status < 200 || c.status >= 300) return S3Error(c.status, c.response, what);
  // CompleteMultipartUpload may answer 200 with an error document.
  if (c.response.find("<Error>") != std::string::npos) return S3Error(500, c.response, what);
  return Status::Ok();
}

Status S3Client::CheckBucket() const {
  // A listing of no keys rather than a HEAD: its error document names the
  // cause (a HEAD's 403 cannot tell wrong keys from a wrong clock).
  Call c;
  c.method = "GET";
  c.query = {{"list-type", "2"}, {"max-keys", "0"}};
  return Perform(c);
}

Result<std::optional<uint64_t>> S3Client::Head(const std::string& key) const {
  Call c;
  c.method = "HEAD";
  c.key = key;
  Status st = Perform(c);
  if (c.status == 404) return std::optional<uint64_t>();
  if (!st.ok()) {
    // A HEAD answer has no body: name the likely cause from the status.
    if (c.status == 403) {
      return Status(Code::kPermissionDenied,
                    st.message() + " (403: the S3 store refused the credentials or the clock)");
    }
    return st;
  }
  return std::optional<uint64_t>(c.content_length);
}

Status S3Client::PutFile(const std::string& key, const fs::path& file, uint64_t offset,
                         uint64_t length) const {
  Call c;
  c.method = "PUT";
  c.key = key;
  c.payload_hash = kUnsignedPayload;
  c.file = &file;
  c.offset = offset;
  c.length = length;
  c.content_type = "application/octet-stream";
  return Perform(c);
}

Result<std::string> S3Client::CreateMultipart(const std::string& key) const {
  Call c;
  c.method = "POST";
  c.key = key;
  c.query = {{"uploads", ""}};
  std::string empty;
  c.body = &empty;
  KILN_RETURN_IF_ERROR(Perform(c));
  std::string id = Tag(c.response, "UploadId");
  if (id.empty()) return IOError("CreateMultipartUpload of " + key + " answered no UploadId");
  return id;
}

Result<std::string> S3Client::UploadPart(const std::string& key, const std::string& upload_id,
                                         int part, const fs::path& file, uint64_t offset,
                                         uint64_t length) const {
  Call c;
  c.method = "PUT";
  c.key = key;
  c.query = {{"partNumber", std::to_string(part)}, {"uploadId", upload_id}};
  c.payload_hash = kUnsignedPayload;
  c.file = &file;
  c.offset = offset;
  c.length = length;
  KILN_RETURN_IF_ERROR(Perform(c));
  if (c.etag.empty())
    return IOError("part " + std::to_string(part) + " of " + key + " got no ETag");
  return c.etag;
}

Status S3Client::CompleteMultipart(const std::string& key, const std::string& upload_id,
                                   const std::vector<std::string>& etags) const {
  std::string body = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < etags.size(); ++i) {
    body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + etags[i] +
            "</ETag></Part>";
  }
  body += "</CompleteMultipartUpload>";
  Call c;
  c.method = "POST";
  c.key = key;
  c.query = {{"uploadId", upload_id}};
  c.payload_hash = Sha256Hex(body);
  c.body = &body;
  c.content_type = "application/xml";
  return Perform(c);
}

Status S3Client::AbortMultipart(const std::string& key, const std::string& upload_id) const {
  Call c;
  c.method = "DELETE";
  c.key = key;
  c.query = {{"uploadId", upload_id}};
  return Perform(c);
}

Status S3Client::Get(const std::string& key,
                     const std::function<Status(const char*, size_t)>& sink) const {
  Call c;
  c.method = "GET";
  c.key = key;
  c.sink = &sink;
  return Perform(c);
}

Status S3Client::Delete(const std::string& key) const {
  Call c;
  c.method = "DELETE";
  c.key = key;
  return Perform(c);
}

Result<std::vector<S3Client::Object>> S3Client::List(const std::string& prefix) const {
  std::vector<Object> out;
  std::string token;
  while (true) {
    Call c;
    c.method = "GET";
    c.query = {{"list-type", "2"}, {"prefix", prefix}};
    if (!token.empty()) c.query.push_back({"continuation-token", token});
    KILN_RETURN_IF_ERROR(Perform(c));
    for (const std::string& item : Tags(c.response, "Contents")) {
      std::tm tm{};
      std::string modified = Tag(item, "LastModified");  // 2026-12-05T03:12:00.000Z
      int64_t ms = strptime(modified.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) ? int64_t(timegm(&tm)) * 1000 : 0;
      out.push_back({Tag(item, "Key"), std::strtoull(Tag(item, "Size").c_str(), nullptr, 10), ms});
    }
    token = Tag(c.response, "NextContinuationToken");
    if (Tag(c.response, "IsTruncated") != "true" || token.empty()) break;
  }
  std::sort(out.begin(), out.end(), [](const Object& a, const Object& b) { return a.key < b.key; });
  return out;
}

Result<std::vector<S3Client::Upload>> S3Client::ListUploads(const std::string& prefix) const {
  Call c;
  c.method = "GET";
  c.query = {{"uploads", ""}, {"prefix", prefix}};
  KILN_RETURN_IF_ERROR(Perform(c));
  std::vector<Upload> out;
  for (const std::string& item : Tags(c.response, "Upload")) {
    out.push_back({Tag(item, "Key"), Tag(item, "UploadId"), Tag(item, "Initiated")});
  }
  return out;
}

std::string S3Client::Presign(const std::string& key, int64_t expires_s) const {
  return PresignedUrl("GET", location_.endpoint, Path(key), location_.credentials,
                      AmzDate(location_.now ? location_.now() : std::time(nullptr)), expires_s);
}

}  // namespace kiln
