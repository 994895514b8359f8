#include "cli/remote.h"

#include <curl/curl.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace kiln {

struct RemoteClient::Impl {
  std::string server, token;
  CURL* curl = nullptr;
};

RemoteClient::RemoteClient(std::string server, std::string token)
    : impl_(std::make_unique<Impl>()) {
  while (!server.empty() && server.back() == '/') server.pop_back();
  impl_->server = std::move(server);
  impl_->token = std::move(token);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  impl_->curl = curl_easy_init();
}

RemoteClient::~RemoteClient() {
  if (impl_->curl) curl_easy_cleanup(impl_->curl);
}

static size_t AppendToString(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

static size_t WriteToFile(char* data, size_t size, size_t n, void* f) {
  return fwrite(data, size, n, static_cast<FILE*>(f)) * size;
}

Result<nlohmann::json> RemoteClient::Call(const std::string& method, const std::string& path,
                                          const nlohmann::json* body) {
  CURL* c = impl_->curl;
  if (!c) return Internal("libcurl failed to initialise");
  curl_easy_reset(c);
  std::string url = impl_->server + path, response, payload;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, AppendToString);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
  struct curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  std::string auth = "Authorization: Bearer " + impl_->token;
  if (!impl_->token.empty()) headers = curl_slist_append(headers, auth.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  if (body) {
    payload = body->dump();
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, long(payload.size()));
  }
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    return IOError("cannot reach the Kiln server at " + impl_->server + " (" +
                   curl_easy_strerror(rc) + "); start it with scripts/serve, or pass --server");
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  nlohmann::json j = nlohmann::json::parse(response, nullptr, false);
  if (status >= 200 && status < 300) {
    if (j.is_discarded()) return Internal("the server answered with something that is not JSON");
    return j;
  }
  std::string message = "HTTP " + std::to_string(status);
  if (!j.is_discarded() && j.contains("error") && j["error"].contains("message")) {
    message = j["error"]["message"].get<std::string>();
  }
  Code code = status == 404   ? Code::kNotFound
              : status == 401 ? Code::kUnauthenticated
              : status == 403 ? Code::kPermissionDenied
              : status == 409 ? Code::kConflict
              : status == 422 ? Code::kFailedPrecondition
              : status < 500  ? Code::kInvalidArgument
                              : Code::kInternal;
  return Status(code, message);
}

Result<nlohmann::json> RemoteClient::Upload(const std::string& path, const std::string& file) {
  // Streamed from the file, a piece at a time: a dataset of any size.
  std::FILE* in = std::fopen(file.c_str(), "rb");
  if (!in) return NotFound("cannot read " + file);
  std::error_code ec;
  uintmax_t size = std::filesystem::file_size(file, ec);
  if (ec) {
    std::fclose(in);
    return NotFound("cannot read " + file + ": " + ec.message());
  }
  CURL* c = impl_->curl;
  curl_easy_reset(c);
  std::string url = impl_->server + path, response;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_READDATA, in);  // curl freads it
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(size));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, AppendToString);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response);
  struct curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/octet-stream");
  std::string auth = "Authorization: Bearer " + impl_->token;
  if (!impl_->token.empty()) headers = curl_slist_append(headers, auth.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  std::fclose(in);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (rc != CURLE_OK && status == 0) {
    return IOError("cannot reach the Kiln server at " + impl_->server + " (" +
                   curl_easy_strerror(rc) + ")");
  }
  nlohmann::json j = nlohmann::json::parse(response, nullptr, false);
  if (status >= 200 && status < 300 && !j.is_discarded()) return j;
  std::string message = "HTTP " + std::to_string(status);
  if (!j.is_discarded() && j.contains("error")) message = j["error"].value("message", message);
  return Status(status == 413   ? Code::kResourceExhausted
                : status == 507 ? Code::kInsufficientStorage
                                : Code::kInvalidArgument,
                message);
}

Status RemoteClient::Download(const std::string& path, const std::string& file) {
  CURL* c = impl_->curl;
  curl_easy_reset(c);
  std::string url = impl_->server + path, tmp = file + ".part";
  FILE* f = fopen(tmp.c_str(), "wb");
  if (!f) return IOError("cannot write " + tmp);
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, WriteToFile);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
  struct curl_slist* headers = nullptr;
  std::string auth = "Authorization: Bearer " + impl_->token;
  if (!impl_->token.empty()) headers = curl_slist_append(headers, auth.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  fclose(f);
  if (rc != CURLE_OK) {
    std::remove(tmp.c_str());
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status == 404)
      return NotFound("no such artifact here (for an uploaded one, pass --project)");
    return IOError("download failed: " + std::string(curl_easy_strerror(rc)));
  }
  if (std::rename(tmp.c_str(), file.c_str()) != 0) return IOError("cannot write " + file);
  return Status::Ok();
}

Result<std::string> FindPipeline(RemoteClient& remote, const std::string& project,
                                 const std::string& ref, const std::string& name) {
  std::string base = "/api/v1/projects/" + UrlSegment(project);
  KILN_ASSIGN_OR_RETURN(nlohmann::json tree,
                        remote.Call("GET", base + "/tree?ref=" + UrlSegment(ref)));
  for (const auto& [g, n] : tree["tree"]["nodes"].items()) {
    if (g == name || (n["attrs"].value("name", "") == name && !n["children"].empty())) {
      auto node = remote.Call("GET", base + "/nodes/" + g + "?ref=" + UrlSegment(ref));
      if (node.ok() && (*node)["meta"] == "Pipeline") return std::string(g);
    }
  }
  return NotFound("no pipeline named '" + name + "' in " + project + " at " + ref);
}

}  // namespace kiln
