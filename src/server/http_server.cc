// The only translation unit that includes Boost.Beast/Asio (see STACK.md:
// ~40 s per such file on two cores).
#include "server/http_server.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <chrono>
#include <deque>
#include <filesystem>
#include <limits>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

namespace kiln {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

const char* MimeType(const std::string& path) {
  auto ext = std::filesystem::path(path).extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".wasm") return "application/wasm";
  return "application/octet-stream";
}

// Splits a request target into its (still encoded) path and decoded query map.
Status ParseTarget(std::string_view target, HttpRequest* req) {
  size_t q = target.find('?');
  // The path stays percent-encoded: the router splits it into segments first
  // and decodes each, so an encoded '/' (%2F) can live inside a segment.
  req->path = std::string(target.substr(0, q));
  if (req->path.empty() || req->path[0] != '/') {
    return InvalidArgument("request target must start with '/'");
  }
  KILN_RETURN_IF_ERROR(PercentDecode(req->path, false).status());
  if (q == std::string_view::npos) return Status::Ok();
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    size_t eq = pair.find('=');
    KILN_ASSIGN_OR_RETURN(std::string key, PercentDecode(pair.substr(0, eq), true));
    std::string value;
    if (eq != std::string_view::npos) {
      KILN_ASSIGN_OR_RETURN(value, PercentDecode(pair.substr(eq + 1), true));
    }
    if (!key.empty()) req->query[key] = value;
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return Status::Ok();
}

}  // namespace

class WsSession;

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  ServerOptions options;
  const Router* router = nullptr;
  Authenticator auth;
  WebSocketHandler* ws_handler = nullptr;
  Metrics* metrics = nullptr;

  // Reset by Stop() after the threads are joined: destroying the context
  // destroys the handlers it still holds, and with them the sessions (which
  // hold this Impl, so without this the two would keep each other alive).
  std::unique_ptr<asio::io_context> ioc_owner = std::make_unique<asio::io_context>();
  asio::io_context& ioc = *ioc_owner;
  std::optional<tcp::acceptor> acceptor{std::in_place, ioc};
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  std::atomic<int> active_requests{0};
  std::atomic<uint64_t> next_ws_id{1};
  uint16_t bound_port = 0;

  std::mutex clients_mu;
  std::unordered_map<std::string, int> connections_per_client;
  struct Bucket {
    double tokens;
    Clock::time_point last;
  };
  std::unordered_map<std::string, Bucket> buckets;

  std::mutex ws_mu;
  std::set<std::weak_ptr<WsSession>, std::owner_less<std::weak_ptr<WsSession>>> websockets;

  Impl() = default;

  void Accept();
  bool AdmitConnection(const std::string& peer) {
    // A trusted proxy carries everyone's connections: its clients are
    // limited per request (AdmitRequest, by X-Forwarded-For) instead.
    if (!options.trusted_proxy.empty() && peer == options.trusted_proxy) return true;
    std::lock_guard lock(clients_mu);
    int& n = connections_per_client[peer];
    if (n >= options.max_connections_per_client) return false;
    ++n;
    return true;
  }
  void ReleaseConnection(const std::string& peer) {
    if (!options.trusted_proxy.empty() && peer == options.trusted_proxy) return;
    std::lock_guard lock(clients_mu);
    if (--connections_per_client[peer] <= 0) connections_per_client.erase(peer);
  }
  // The client a request is from: the connection's peer, or behind the
  // configured trusted proxy, the last address of X-Forwarded-For (the one
  // the proxy itself added; earlier ones are the client's to invent).
  std::string ClientAddress(const std::string& peer, const std::string& forwarded) const {
    if (options.trusted_proxy.empty() || peer != options.trusted_proxy || forwarded.empty()) {
      return peer;
    }
    size_t comma = forwarded.rfind(',');
    std::string last = forwarded.substr(comma == std::string::npos ? 0 : comma + 1);
    size_t b = last.find_first_not_of(" \t"), e = last.find_last_not_of(" \t");
    if (b == std::string::npos) return peer;
    return last.substr(b, e - b + 1);
  }
  // Token bucket per client address.
  bool AdmitRequest(const std::string& peer) {
    std::lock_guard lock(clients_mu);
    auto now = Clock::now();
    double rate = options.requests_per_second_per_client, burst = 2 * rate;
    auto [it, fresh] = buckets.try_emplace(peer, Bucket{burst, now});
    Bucket& b = it->second;
    if (!fresh) {
      double elapsed = std::chrono::duration<double>(now - b.last).count();
      b.tokens = std::min(burst, b.tokens + elapsed * rate);
      b.last = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  HttpResponse ServeStatic(const HttpRequest& req) const {
    if (options.static_dir.empty()) {
      return HttpResponse::Error(404, "NotFound", "no web assets are configured");
    }
    if (req.method != "GET" && req.method != "HEAD") {
      return HttpResponse::Error(405, "MethodNotAllowed", "static assets are read-only");
    }
    std::string path = PercentDecode(req.path, false).value();  // checked in ParseTarget
    // Refuse any path that could leave the asset folder.
    if (path.find("..") != std::string::npos || path.find('\\') != std::string::npos ||
        path.find('\0') != std::string::npos) {
      return HttpResponse::Error(400, "InvalidArgument", "path may not contain '..'");
    }
    std::filesystem::path root(options.static_dir);
    std::filesystem::path file = root / path.substr(1);
    std::error_code ec;
    if (path == "/" || std::filesystem::is_directory(file, ec)) file = root / "index.html";
    if (!std::filesystem::is_regular_file(file, ec)) {
      // Client-side routes (no extension) get the app; missing assets a 404.
      if (std::filesystem::path(path).has_extension()) {
        return HttpResponse::Error(404, "NotFound", "no asset " + path);
      }
      file = root / "index.html";
      if (!std::filesystem::is_regular_file(file, ec)) {
        return HttpResponse::Error(404, "NotFound", "the web app is not built (no index.html)");
      }
    }
    HttpResponse r;
    r.content_type = MimeType(file.string());
    r.file_path = file.string();
    // Vite names assets by content hash: they never change.
    if (path.starts_with("/assets/")) {
      r.headers.emplace_back("Cache-Control", "public, max-age=31536000, immutable");
    } else {
      r.headers.emplace_back("Cache-Control", "no-cache");
    }
    return r;
  }
};

// One WebSocket connection. Reads run on the socket's strand; Send() posts
// onto it, so the write queue is only touched there.
class WsSession : public WebSocketConnection, public std::enable_shared_from_this<WsSession> {
  friend class HttpServer;

 public:
  WsSession(tcp::socket&& socket, std::shared_ptr<HttpServer::Impl> server, std::string user,
            std::string peer)
      : ws_(std::move(socket)),
        server_(std::move(server)),
        user_(std::move(user)),
        peer_(std::move(peer)),
        id_(server_->next_ws_id++) {}

  uint64_t id() const override { return id_; }
  const std::string& user() const override { return user_; }

  bool Send(std::string message) override {
    if (queued_bytes_.load() + message.size() > server_->options.ws_queue_limit_bytes) {
      return false;
    }
    Enqueue(std::move(message));
    return true;
  }
  void SendControl(std::string message) override { Enqueue(std::move(message)); }

  void Close(const std::string& reason) override {
    asio::post(ws_.get_executor(), [self = shared_from_this(), reason] {
      if (self->closing_) return;
      self->closing_ = true;
      // No expires_after here: Beast forbids it while a read and a write are
      // both pending; the stream's own close-handshake timeout applies, and
      // Stop() finishes sessions that do not close in time.
      self->ws_.async_close(websocket::close_reason(websocket::close_code::going_away, reason),
                            [self](beast::error_code) {});
    });
  }

  void Run(http::request<http::string_body> req) {
    beast::get_lowest_layer(ws_).expires_never();
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.read_message_max(server_->options.max_ws_message_bytes);
    ws_.async_accept(req, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->Finish();
      {
        std::lock_guard lock(self->server_->ws_mu);
        self->server_->websockets.insert(self);
      }
      self->server_->metrics->WebSocketOpened();
      self->opened_ = true;
      if (self->server_->ws_handler) self->server_->ws_handler->OnOpen(self);
      self->DoRead();
    });
  }

 private:
  void Enqueue(std::string message) {
    queued_bytes_ += message.size();
    asio::post(ws_.get_executor(), [self = shared_from_this(), m = std::move(message)]() mutable {
      self->queue_.push_back(std::move(m));
      if (self->queue_.size() == 1) self->DoWrite();
    });
  }

  void DoWrite() {
    if (closed_) {
      for (auto& m : queue_) queued_bytes_ -= m.size();
      queue_.clear();
      return;
    }
    ws_.text(true);
    ws_.async_write(asio::buffer(queue_.front()),
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      self->queued_bytes_ -= self->queue_.front().size();
                      self->queue_.pop_front();
                      if (ec) {
                        self->closed_ = true;
                        for (auto& m : self->queue_) self->queued_bytes_ -= m.size();
                        self->queue_.clear();
                        return;
                      }
                      if (!self->queue_.empty()) self->DoWrite();
                    });
  }

  void DoRead() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) {
        if (ec == websocket::error::message_too_big) {
          spdlog::info("websocket {} from {}: message over the size limit, closing", self->id_,
                       self->peer_);
        }
        return self->Finish();
      }
      if (!self->ws_.got_text()) {
        self->SendControl(
            R"({"type":"error","error":{"code":"InvalidArgument","message":"binary frames are not supported; send JSON text"}})");
      } else if (self->server_->ws_handler) {
        self->server_->ws_handler->OnMessage(self, beast::buffers_to_string(self->buffer_.data()));
      }
      self->buffer_.consume(self->buffer_.size());
      self->DoRead();
    });
  }

  // Runs once, when the connection ends (or when the server stops with it
  // still open): tells the handler and releases the connection slot.
  void Finish() {
    if (finished_) return;
    finished_ = true;
    closed_ = true;
    if (opened_) {
      server_->metrics->WebSocketClosed();
      if (server_->ws_handler) server_->ws_handler->OnClose(shared_from_this());
    }
    {
      std::lock_guard lock(server_->ws_mu);
      server_->websockets.erase(weak_from_this());
    }
    server_->ReleaseConnection(peer_);
    server_->metrics->SocketClosed();
  }

  websocket::stream<beast::tcp_stream> ws_;
  std::shared_ptr<HttpServer::Impl> server_;
  std::string user_, peer_;
  uint64_t id_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  std::atomic<size_t> queued_bytes_{0};
  bool opened_ = false, closing_ = false, closed_ = false, finished_ = false;
};

// One HTTP connection: read a request, answer it, repeat while keep-alive.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket&& socket, std::shared_ptr<HttpServer::Impl> server, std::string peer)
      : stream_(std::move(socket)), server_(std::move(server)), peer_(std::move(peer)) {}

  ~HttpSession() {
    EndStream();  // a streamed upload cut off by shutdown discards its bytes
    if (!upgraded_) {
      server_->ReleaseConnection(peer_);
      server_->metrics->SocketClosed();
    }
  }

  void Start() { DoRead(true); }

 private:
  // Reads the next request's headers: within header_timeout on a new
  // connection, idle_timeout on a kept-alive one. What happens to the body
  // is decided by the route once the headers are in (OnHeader).
  void DoRead(bool first) {
    header_parser_.emplace();
    header_parser_->header_limit(uint32_t(server_->options.max_header_bytes));
    // Checked in OnHeader, per route. Not boost::none: Boost 1.74's parser
    // compares a length with it and takes none for zero.
    header_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    stream_.expires_after(std::chrono::milliseconds(first ? server_->options.header_timeout_ms
                                                          : server_->options.idle_timeout_ms));
    http::async_read_header(
        stream_, buffer_, *header_parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  // The errors that end a connection quietly, and those answered first.
  bool HandleReadError(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
      Shutdown();
      return true;
    }
    if (ec == http::error::body_limit) {
      WriteError(413, "ResourceExhausted", BodyLimitMessage());
      return true;
    }
    if (ec == http::error::header_limit) {
      WriteError(431, "ResourceExhausted", "request headers too large");
      return true;
    }
    if (ec) {
      WriteError(400, "InvalidArgument", "malformed HTTP request: " + ec.message());
      return true;
    }
    return false;
  }

  std::string BodyLimitMessage() const {
    return "request body over the limit of " + std::to_string(server_->options.max_body_bytes) +
           " bytes (kiln serve --max-body-mb raises it; artifact uploads have no such limit)";
  }

  void OnHeader(beast::error_code ec) {
    if (HandleReadError(ec)) return;
    auto& header = header_parser_->get();
    if (!websocket::is_upgrade(header)) {
      HttpRequest r = Convert(header);
      std::string_view target(header.target().data(), header.target().size());
      if (ParseTarget(target, &r).ok() && r.path.starts_with("/api/")) {
        if (const StreamingHandler* h = server_->router->StreamingFor(r)) {
          return BeginStream(std::move(r), *h);
        }
      }
    }
    // Everything else is read whole, within the body limit.
    if (auto length = header_parser_->content_length();
        length && *length > server_->options.max_body_bytes) {
      return WriteError(413, "ResourceExhausted", BodyLimitMessage());
    }
    if (auto length = header_parser_->content_length(); length && *length > buffer_.capacity()) {
      buffer_.reserve(std::min<std::uint64_t>(*length, kChunkBytes));  // see BeginStream
    }
    parser_.emplace(std::move(*header_parser_));
    header_parser_.reset();
    parser_->body_limit(server_->options.max_body_bytes);
    stream_.expires_after(std::chrono::milliseconds(server_->options.body_timeout_ms));
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (HandleReadError(ec)) return;
    http::request<http::string_body> req = parser_->release();
    if (websocket::is_upgrade(req)) return Upgrade(std::move(req));
    Handle(std::move(req));
  }

  // ---- streamed bodies: headers → begin → chunks into the sink → finish
  void BeginStream(HttpRequest r, const StreamingHandler& handler) {
    version_ = header_parser_->get().version();
    keep_alive_ = header_parser_->get().keep_alive();
    started_ = Clock::now();
    route_ = server_->router->PatternFor(r.method, r.path);
    // The body is not read when begin refuses: answer and close.
    auto refuse = [&](HttpResponse resp) {
      server_->metrics->ObserveRequest(r.method, route_, resp.status, 0);
      Write(std::move(resp), version_, false);
    };
    if (!server_->AdmitRequest(r.peer)) {
      HttpResponse resp =
          HttpResponse::Error(429, "ResourceExhausted", "too many requests; slow down");
      resp.headers.emplace_back("Retry-After", "1");
      return refuse(std::move(resp));
    }
    Result<std::string> user =
        server_->auth ? server_->auth(r) : Result<std::string>(std::string("local"));
    if (!user.ok()) return refuse(HttpResponse::Error(user.status()));
    r.user = *user;
    Result<std::unique_ptr<BodySink>> sink = Status(Code::kInternal, "internal error");
    try {
      sink = handler.begin(r);
    } catch (const std::exception& e) {
      spdlog::error("handler for {} {} threw: {}", r.method, r.path, e.what());
    }
    if (!sink.ok()) return refuse(HttpResponse::Error(sink.status()));
    sink_ = std::move(*sink);
    streaming_ = &handler;
    stream_request_ = std::move(r);
    upload_parser_.emplace(std::move(*header_parser_));
    header_parser_.reset();
    upload_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());  // begin decided
    chunk_.resize(kChunkBytes);
    // Beast reads into the free capacity of buffer_, which the headers left
    // at a kilobyte or so: without room, a 1 GiB body took ~1 million reads.
    buffer_.reserve(kChunkBytes);
    server_->active_requests++;
    // A client that asked (curl and libcurl do for large bodies) is told to
    // go on now that the upload is accepted, instead of waiting a second.
    if (beast::iequals(stream_request_.Header("expect"), "100-continue")) {
      auto cont =
          std::make_shared<http::response<http::empty_body>>(http::status::continue_, version_);
      return http::async_write(stream_, *cont,
                               [self = shared_from_this(), cont](beast::error_code ec, size_t) {
                                 if (ec) {
                                   self->EndStream();
                                   return self->Shutdown();
                                 }
                                 self->ReadChunk();
                               });
    }
    ReadChunk();
  }

  void ReadChunk() {
    auto& body = upload_parser_->get().body();
    body.data = chunk_.data();
    body.size = chunk_.size();
    body.more = true;
    // An idle timeout, renewed by every piece: a large upload may take long,
    // a stalled one may not.
    stream_.expires_after(std::chrono::milliseconds(server_->options.body_timeout_ms));
    http::async_read_some(
        stream_, buffer_, *upload_parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnChunk(ec); });
  }

  void OnChunk(beast::error_code ec) {
    if (ec == http::error::need_buffer) ec = {};
    if (ec) {
      EndStream();
      HandleReadError(ec);
      return;
    }
    size_t n = chunk_.size() - upload_parser_->get().body().size;
    if (n > 0) {
      Status st = sink_->Write(chunk_.data(), n);
      if (!st.ok()) {
        EndStream();
        return Write(HttpResponse::Error(st), version_, false);
      }
    }
    if (!upload_parser_->is_done()) return ReadChunk();
    HttpResponse resp;
    try {
      resp = streaming_->finish(stream_request_, std::move(sink_));
    } catch (const std::exception& e) {
      spdlog::error("handler for {} {} threw: {}", stream_request_.method, stream_request_.path,
                    e.what());
      resp = HttpResponse::Error(500, "Internal", "internal error");
    }
    double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    server_->metrics->ObserveRequest(stream_request_.method, route_, resp.status, seconds);
    EndStream();
    Write(std::move(resp), version_, keep_alive_);
  }

  // Drops what a streamed request held (an unfinished sink discards its bytes).
  void EndStream() {
    if (!streaming_) return;
    sink_.reset();
    streaming_ = nullptr;
    stream_request_ = HttpRequest();
    upload_parser_.reset();
    std::vector<char>().swap(chunk_);
    server_->active_requests--;
  }

  void Upgrade(http::request<http::string_body> req) {
    HttpRequest r = Convert(req);
    std::string_view target(req.target().data(), req.target().size());
    if (target.substr(0, target.find('?')) != server_->options.ws_path) {
      return WriteError(404, "NotFound", "no WebSocket endpoint at " + std::string(target));
    }
    Status t = ParseTarget(target, &r);
    Result<std::string> user =
        t.ok() ? server_->auth ? server_->auth(r) : Result<std::string>(std::string("local"))
               : Result<std::string>(t);
    if (!user.ok()) return Write(HttpResponse::Error(user.status()), req.version(), false);
    upgraded_ = true;  // the WebSocket session owns the connection slot from here
    auto ws = std::make_shared<WsSession>(stream_.release_socket(), server_, *user, peer_);
    ws->Run(std::move(req));
  }

  template <class Message>
  HttpRequest Convert(const Message& req) {
    HttpRequest r;
    r.method = std::string(req.method_string());
    for (const auto& field : req) {
      std::string name(field.name_string());
      for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = std::string(field.value());
    }
    r.peer = server_->ClientAddress(peer_, r.Header("x-forwarded-for"));
    return r;
  }

  void Handle(http::request<http::string_body> req) {
    auto start = Clock::now();
    server_->active_requests++;
    HttpRequest r = Convert(req);
    r.body = std::move(req.body());
    HttpResponse resp;
    std::string route;
    Status target = ParseTarget(std::string_view(req.target().data(), req.target().size()), &r);
    if (!target.ok()) {
      resp = HttpResponse::Error(target);
    } else if (!server_->AdmitRequest(r.peer)) {
      resp = HttpResponse::Error(429, "ResourceExhausted", "too many requests; slow down");
      resp.headers.emplace_back("Retry-After", "1");
    } else if (r.path.starts_with("/api/")) {
      route = server_->router->PatternFor(r.method, r.path);
      Result<std::string> user =
          server_->auth ? server_->auth(r) : Result<std::string>(std::string("local"));
      if (!user.ok()) {
        resp = HttpResponse::Error(user.status());
      } else {
        r.user = *user;
        try {
          resp = server_->router->Dispatch(r);
        } catch (const std::exception& e) {
          // A handler bug must not take the server down; report it.
          spdlog::error("handler for {} {} threw: {}", r.method, r.path, e.what());
          resp = HttpResponse::Error(500, "Internal", "internal error");
        }
      }
    } else {
      route = "static";
      resp = server_->ServeStatic(r);
    }
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    server_->metrics->ObserveRequest(r.method, route, resp.status, seconds);
    server_->active_requests--;
    bool head = req.method() == http::verb::head;
    Write(std::move(resp), req.version(), req.keep_alive(), head);
  }

  void WriteError(int status, const std::string& code, const std::string& message) {
    server_->metrics->ObserveRequest("?", "malformed", status, 0);
    Write(HttpResponse::Error(status, code, message), 11, false);
  }

  // Takes the response by value: large bodies (trees) move, not copy.
  void Write(HttpResponse resp, unsigned version, bool keep_alive, bool head = false) {
    if (!resp.file_path.empty()) {
      http::response<http::file_body> res{http::status(resp.status), version};
      beast::error_code ec;
      res.body().open(resp.file_path.c_str(), beast::file_mode::scan, ec);
      if (resp.unlink_file) ::unlink(resp.file_path.c_str());
      if (ec) {
        return Write(HttpResponse::Error(404, "NotFound", "cannot open " + resp.file_path), version,
                     keep_alive);
      }
      FillHeaders(res, resp, keep_alive);
      res.prepare_payload();
      auto sp = std::make_shared<http::response<http::file_body>>(std::move(res));
      if (head) {
        auto hp = std::make_shared<http::response<http::empty_body>>(sp->base());
        return Send(hp, keep_alive);
      }
      return Send(sp, keep_alive);
    }
    http::response<http::string_body> res{http::status(resp.status), version};
    FillHeaders(res, resp, keep_alive);
    if (!head) res.body() = std::move(resp.body);
    res.prepare_payload();
    Send(std::make_shared<http::response<http::string_body>>(std::move(res)), keep_alive);
  }

  template <class Res>
  void FillHeaders(Res& res, const HttpResponse& resp, bool keep_alive) {
    res.set(http::field::server, "kiln");
    res.set(http::field::content_type, resp.content_type);
    res.set("X-Content-Type-Options", "nosniff");
    for (const auto& [k, v] : resp.headers) res.set(k, v);
    res.keep_alive(keep_alive);
  }

  template <class Res>
  void Send(std::shared_ptr<Res> res, bool keep_alive) {
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
                        if (ec || !keep_alive || self->server_->stopping) return self->Shutdown();
                        self->DoRead(false);
                      });
  }

  void Shutdown() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  std::shared_ptr<HttpServer::Impl> server_;
  std::string peer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> header_parser_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool upgraded_ = false;

  // A streamed request in progress (BeginStream … EndStream).
  static constexpr size_t kChunkBytes = 1 << 20;
  std::optional<http::request_parser<http::buffer_body>> upload_parser_;
  const StreamingHandler* streaming_ = nullptr;
  std::unique_ptr<BodySink> sink_;
  HttpRequest stream_request_;
  std::vector<char> chunk_;
  std::string route_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  Clock::time_point started_;
};

void HttpServer::Impl::Accept() {
  acceptor->async_accept(asio::make_strand(ioc), [self = shared_from_this()](beast::error_code ec,
                                                                             tcp::socket socket) {
    if (ec) {
      if (self->stopping) return;
      spdlog::warn("accept failed: {}", ec.message());
      return self->Accept();
    }
    beast::error_code pec;
    std::string peer = socket.remote_endpoint(pec).address().to_string();
    // Small messages (broadcasts, acks) must go out at once: Nagle's
    // algorithm with the peer's delayed ACK would add ~40 ms to each.
    socket.set_option(tcp::no_delay(true), pec);
    self->metrics->SocketOpened();
    if (!self->AdmitConnection(peer)) {
      self->metrics->SocketClosed();
      // Answer plainly, then drop the connection.
      static const std::string kBusyBody =
          "{\"error\":{\"code\":\"ResourceExhausted\",\"message\":"
          "\"too many connections from this client\"}}";
      static const std::string kBusy =
          "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: "
          "close\r\nContent-Length: " +
          std::to_string(kBusyBody.size()) + "\r\n\r\n" + kBusyBody;
      auto s = std::make_shared<tcp::socket>(std::move(socket));
      asio::async_write(*s, asio::buffer(kBusy), [s](beast::error_code, size_t) {
        beast::error_code ignored;
        s->shutdown(tcp::socket::shutdown_both, ignored);
      });
    } else {
      std::make_shared<HttpSession>(std::move(socket), self, peer)->Start();
    }
    self->Accept();
  });
}

HttpServer::HttpServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

size_t HttpServer::CloseWebSocketsOf(const std::string& user, const std::string& reason) {
  std::vector<std::shared_ptr<WsSession>> sessions;
  {
    std::lock_guard lock(impl_->ws_mu);
    for (const auto& w : impl_->websockets) {
      if (auto s = w.lock(); s && s->user() == user) sessions.push_back(std::move(s));
    }
  }
  for (const auto& s : sessions) s->Close(reason);
  return sessions.size();
}
HttpServer::~HttpServer() { Stop(); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const ServerOptions& options,
                                                      const Router& router, Authenticator auth,
                                                      WebSocketHandler* ws, Metrics& metrics) {
  auto impl = std::make_shared<Impl>();
  impl->options = options;
  impl->router = &router;
  impl->auth = std::move(auth);
  impl->ws_handler = ws;
  impl->metrics = &metrics;

  beast::error_code ec;
  auto address = asio::ip::make_address(options.host, ec);
  if (ec) return InvalidArgument("'" + options.host + "' is not an IP address");
  tcp::endpoint endpoint(address, options.port);
  impl->acceptor->open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor->bind(endpoint, ec);
  if (!ec) impl->acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return IOError("cannot listen on " + options.host + ":" + std::to_string(options.port) + ": " +
                   ec.message());
  }
  impl->bound_port = impl->acceptor->local_endpoint().port();
  impl->Accept();
  for (int i = 0; i < std::max(1, options.threads); ++i) {
    impl->threads.emplace_back([raw = impl.get()] { raw->ioc.run(); });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const { return impl_->bound_port; }

void HttpServer::Stop(int grace_ms) {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  asio::post(impl_->ioc, [impl = impl_] {
    beast::error_code ec;
    impl->acceptor->close(ec);
  });
  std::vector<std::shared_ptr<WsSession>> open;
  {
    std::lock_guard lock(impl_->ws_mu);
    for (auto& w : impl_->websockets) {
      if (auto s = w.lock()) open.push_back(s);
    }
  }
  for (auto& s : open) s->Close("server shutting down");
  open.clear();  // sessions must not outlive the io_context reset below
  // Requests in flight finish (their writes are durable once acknowledged);
  // then the loop stops.
  auto deadline = Clock::now() + std::chrono::milliseconds(grace_ms);
  auto websockets_open = [&] {
    std::lock_guard lock(impl_->ws_mu);
    return !impl_->websockets.empty();
  };
  // WebSockets get a short while for the close handshake; a peer that does
  // not answer is cut off below.
  auto ws_deadline = Clock::now() + std::chrono::milliseconds(std::min(grace_ms, 1000));
  while ((impl_->active_requests > 0 && Clock::now() < deadline) ||
         (websockets_open() && Clock::now() < ws_deadline)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let final writes flush
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  // No I/O thread runs now: finish the WebSockets that did not close in time.
  {
    std::vector<std::shared_ptr<WsSession>> left;
    {
      std::lock_guard lock(impl_->ws_mu);
      for (auto& w : impl_->websockets) {
        if (auto s = w.lock()) left.push_back(s);
      }
    }
    for (auto& s : left) s->Finish();
  }
  impl_->acceptor.reset();
  impl_->ioc_owner.reset();
}

}  // namespace kiln
