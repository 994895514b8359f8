#include "server/testing/client.h"

#include <boost/asio.hpp>
#include <boost/beast.hpp>

namespace kiln::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct HttpClient::Impl {
  std::string host;
  uint16_t port;
  asio::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  Status Connect() {
    stream.emplace(ioc);
    beast::error_code ec;
    stream->connect(tcp::endpoint(asio::ip::make_address(host), port), ec);
    if (ec) return IOError("connect: " + ec.message());
    stream->socket().set_option(tcp::no_delay(true), ec);
    return Status::Ok();
  }
};

HttpClient::HttpClient(std::string host, uint16_t port) : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
}
HttpClient::~HttpClient() = default;

Result<ClientResponse> HttpClient::Request(const std::string& method, const std::string& target,
                                           const std::string& body,
                                           const std::map<std::string, std::string>& headers) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!impl_->stream) KILN_RETURN_IF_ERROR(impl_->Connect());
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    if (req.method() == http::verb::unknown) req.method_string(method);
    req.set(http::field::host, impl_->host);
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty() && !headers.count("Content-Type")) {
      req.set(http::field::content_type, "application/json");
    }
    req.body() = body;
    req.prepare_payload();
    beast::error_code ec;
    impl_->stream->expires_after(std::chrono::seconds(30));
    http::write(*impl_->stream, req, ec);
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 30);
    if (!ec) http::read(*impl_->stream, impl_->buffer, parser, ec);
    if (ec) {
      // The server may have closed an idle keep-alive connection: retry once.
      impl_->stream.reset();
      impl_->buffer.clear();
      if (attempt == 0) continue;
      return IOError("request " + method + " " + target + ": " + ec.message());
    }
    auto res = parser.release();
    ClientResponse out;
    out.status = int(res.result_int());
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
      out.headers[name] = std::string(f.value());
    }
    out.body = std::move(res.body());
    if (!res.keep_alive()) impl_->stream.reset();
    return out;
  }
  return Internal("unreachable");
}

Result<std::string> HttpClient::Raw(const std::string& bytes) {
  asio::io_context ioc;
  beast::tcp_stream s(ioc);
  beast::error_code ec;
  s.connect(tcp::endpoint(asio::ip::make_address(impl_->host), impl_->port), ec);
  if (ec) return IOError("connect: " + ec.message());
  s.expires_after(std::chrono::seconds(10));
  asio::write(s, asio::buffer(bytes), ec);
  if (ec) return IOError("write: " + ec.message());
  s.socket().shutdown(tcp::socket::shutdown_send, ec);
  std::string out;
  char buf[4096];
  for (;;) {
    size_t n = s.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  return out;
}

struct WsClient::Impl {
  asio::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buffer;
};

WsClient::WsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WsClient::~WsClient() { Close(); }

Result<std::unique_ptr<WsClient>> WsClient::Connect(
    const std::string& host, uint16_t port, const std::string& target,
    const std::map<std::string, std::string>& headers) {
  auto impl = std::make_unique<Impl>();
  beast::error_code ec;
  beast::get_lowest_layer(impl->ws).connect(tcp::endpoint(asio::ip::make_address(host), port), ec);
  if (ec) return IOError("connect: " + ec.message());
  beast::get_lowest_layer(impl->ws).socket().set_option(tcp::no_delay(true), ec);
  impl->ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
    for (const auto& [k, v] : headers) req.set(k, v);
  }));
  websocket::response_type res;
  impl->ws.handshake(res, host + ":" + std::to_string(port), target, ec);
  if (ec) {
    return IOError("websocket handshake: " + ec.message() + " (HTTP " +
                   std::to_string(res.result_int()) + " " + res.body() + ")");
  }
  impl->ws.text(true);
  return std::unique_ptr<WsClient>(new WsClient(std::move(impl)));
}

Status WsClient::Send(const std::string& text) {
  beast::error_code ec;
  impl_->ws.text(true);
  impl_->ws.write(asio::buffer(text), ec);
  if (ec) return IOError("send: " + ec.message());
  return Status::Ok();
}

Status WsClient::SendBinary(const std::string& bytes) {
  beast::error_code ec;
  impl_->ws.binary(true);
  impl_->ws.write(asio::buffer(bytes), ec);
  impl_->ws.text(true);
  if (ec) return IOError("send: " + ec.message());
  return Status::Ok();
}

Result<std::string> WsClient::Receive(std::chrono::milliseconds timeout) {
  impl_->buffer.clear();
  beast::error_code result = asio::error::would_block;
  impl_->ws.async_read(impl_->buffer, [&](beast::error_code ec, size_t) { result = ec; });
  impl_->ioc.restart();
  impl_->ioc.run_for(timeout);
  if (result == asio::error::would_block) {
    // Timed out: close the socket so the pending read finishes; this client
    // is unusable afterwards.
    beast::get_lowest_layer(impl_->ws).close();
    impl_->ioc.restart();
    impl_->ioc.run();
    return Status(Code::kCancelled, "no message within " + std::to_string(timeout.count()) + " ms");
  }
  if (result) return IOError("receive: " + result.message());
  return beast::buffers_to_string(impl_->buffer.data());
}

void WsClient::Close() {
  if (!impl_) return;
  beast::error_code ec;
  if (impl_->ws.is_open()) {
    beast::get_lowest_layer(impl_->ws).expires_after(std::chrono::seconds(1));
    impl_->ws.close(websocket::close_code::normal, ec);
  }
}

}  // namespace kiln::testing
