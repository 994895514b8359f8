// The HTTP/WebSocket front door against real sockets on loopback.
#include "server/http_server.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "server/testing/client.h"

namespace kiln {
namespace {

using testing::HttpClient;
using testing::WsClient;

// Echoes every message back, upper-cased, and counts opens and closes.
class EchoHandler : public WebSocketHandler {
 public:
  void OnOpen(const std::shared_ptr<WebSocketConnection>& c) override {
    opens++;
    c->SendControl(R"({"type":"hello","user":")" + c->user() + "\"}");
  }
  void OnMessage(const std::shared_ptr<WebSocketConnection>& c, const std::string& m) override {
    std::string up = m;
    for (char& ch : up) ch = char(std::toupper(static_cast<unsigned char>(ch)));
    c->Send(up);
  }
  void OnClose(const std::shared_ptr<WebSocketConnection>&) override { closes++; }
  std::atomic<int> opens{0}, closes{0};
};

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static_dir_ =
        std::filesystem::temp_directory_path() / ("kiln-static-" + std::to_string(getpid()));
    std::filesystem::create_directories(static_dir_ / "assets");
    std::ofstream(static_dir_ / "index.html") << "<html>kiln</html>";
    std::ofstream(static_dir_ / "assets" / "app-1234.js") << "console.log(1)";

    router_.Add("GET", "/api/v1/health", [](HttpRequest&) {
      return HttpResponse::Json(200, {{"status", "ok"}});
    });
    router_.Add("POST", "/api/v1/echo/{name}", [](HttpRequest& r) {
      Result<nlohmann::json> body = ParseJsonBody(r);
      if (!body.ok()) return HttpResponse::Error(body.status());
      return HttpResponse::Json(
          200, {{"name", r.Param("name")}, {"body", *body}, {"q", r.Query("q")}, {"user", r.user}});
    });
    router_.Add("GET", "/api/v1/throws",
                [](HttpRequest&) -> HttpResponse { throw std::runtime_error("handler bug"); });
  }
  void TearDown() override {
    if (server_) server_->Stop();
    std::filesystem::remove_all(static_dir_);
  }
  void Start(ServerOptions options = {}) {
    options.port = 0;
    options.static_dir = static_dir_.string();
    auto s = HttpServer::Start(options, router_, auth_, &echo_, metrics_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
  }

  std::filesystem::path static_dir_;
  Router router_;
  Authenticator auth_;
  EchoHandler echo_;
  Metrics metrics_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, RoutesJsonAndErrors) {
  Start();
  HttpClient c("127.0.0.1", server_->port());
  auto r = c.Request("GET", "/api/v1/health");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(nlohmann::json::parse(r->body)["status"], "ok");

  r = c.Request("POST", "/api/v1/echo/a%20b?q=x+y", R"({"k": [1, 2]})");
  ASSERT_TRUE(r.ok());
  auto j = nlohmann::json::parse(r->body);
  EXPECT_EQ(j["name"], "a b");
  EXPECT_EQ(j["q"], "x y");
  EXPECT_EQ(j["body"]["k"][1], 2);
  EXPECT_EQ(j["user"], "local");

  r = c.Request("POST", "/api/v1/echo/x", "{broken");
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(nlohmann::json::parse(r->body)["error"]["code"], "InvalidArgument");

  r = c.Request("GET", "/api/v1/throws");
  EXPECT_EQ(r->status, 500);
  r = c.Request("GET", "/api/v1/health");  // still serving
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, BodyLimitGives413) {
  ServerOptions o;
  o.max_body_bytes = 1024;
  Start(o);
  HttpClient c("127.0.0.1", server_->port());
  auto r = c.Request("POST", "/api/v1/echo/x", "{\"a\":\"" + std::string(5000, 'x') + "\"}");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 413);
  HttpClient c2("127.0.0.1", server_->port());
  EXPECT_EQ(c2.Request("GET", "/api/v1/health")->status, 200);
}

TEST_F(HttpServerTest, MalformedHttpGets400AndServerSurvives) {
  Start();
  HttpClient c("127.0.0.1", server_->port());
  for (const char* junk : {"GARBAGE\r\n\r\n", "GET / HTTP/9.9\r\n\r\n",
                           "POST /api/v1/echo/x HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                           "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                           "chunked\r\n\r\nzz\r\n",
                           "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"}) {
    auto out = c.Raw(junk);
    ASSERT_TRUE(out.ok());
    if (!out->empty()) {
      EXPECT_NE(out->find("400"), std::string::npos) << *out;
    }
  }
  EXPECT_EQ(c.Request("GET", "/api/v1/health")->status, 200);
}

TEST_F(HttpServerTest, ServesStaticFilesAndRefusesTraversal) {
  Start();
  HttpClient c("127.0.0.1", server_->port());
  auto r = c.Request("GET", "/");
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "<html>kiln</html>");
  EXPECT_EQ(r->headers["content-type"], "text/html; charset=utf-8");
  r = c.Request("GET", "/projects/digits");  // client-side route → the app
  EXPECT_EQ(r->body, "<html>kiln</html>");
  r = c.Request("GET", "/assets/app-1234.js");
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->headers["cache-control"].find("immutable"), std::string::npos);
  EXPECT_EQ(c.Request("GET", "/assets/missing.js")->status, 404);
  EXPECT_EQ(c.Request("GET", "/%2e%2e/%2e%2e/etc/passwd")->status, 400);
}

TEST_F(HttpServerTest, RateLimitGives429) {
  ServerOptions o;
  o.requests_per_second_per_client = 5;  // burst of 10
  Start(o);
  HttpClient c("127.0.0.1", server_->port());
  int ok = 0, limited = 0;
  for (int i = 0; i < 30; ++i) {
    int s = c.Request("GET", "/api/v1/health")->status;
    if (s == 200) ok++;
    if (s == 429) limited++;
  }
  EXPECT_GE(ok, 10);
  EXPECT_GT(limited, 0);
}

TEST_F(HttpServerTest, AuthenticatorCanRefuse) {
  auth_ = [](const HttpRequest& r) -> Result<std::string> {
    if (r.Header("authorization") == "Bearer good") return std::string("ada");
    return Status(Code::kUnauthenticated, "sign in first");
  };
  Start();
  HttpClient c("127.0.0.1", server_->port());
  EXPECT_EQ(c.Request("GET", "/api/v1/health")->status, 401);
  auto r = c.Request("POST", "/api/v1/echo/x", "{}", {{"Authorization", "Bearer good"}});
  EXPECT_EQ(nlohmann::json::parse(r->body)["user"], "ada");
  EXPECT_FALSE(WsClient::Connect("127.0.0.1", server_->port(), "/api/v1/ws").ok());
  auto ws = WsClient::Connect("127.0.0.1", server_->port(), "/api/v1/ws",
                              {{"Authorization", "Bearer good"}});
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  EXPECT_NE((*ws)->Receive()->find("ada"), std::string::npos);
}

TEST_F(HttpServerTest, WebSocketEchoLimitsAndMetrics) {
  ServerOptions o;
  o.max_ws_message_bytes = 1000;
  Start(o);
  auto ws = WsClient::Connect("127.0.0.1", server_->port(), "/api/v1/ws");
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  EXPECT_NE((*ws)->Receive()->find("hello"), std::string::npos);
  ASSERT_TRUE((*ws)->Send("ping").ok());
  EXPECT_EQ(*(*ws)->Receive(), "PING");
  // Binary frames get an error, not a crash.
  ASSERT_TRUE((*ws)->SendBinary("\x01\x02").ok());
  EXPECT_NE((*ws)->Receive()->find("binary frames"), std::string::npos);
  // An oversized message closes that connection only.
  // (The server may close before the client has finished sending.)
  if ((*ws)->Send(std::string(5000, 'x')).ok()) {
    EXPECT_FALSE((*ws)->Receive().ok());
  }
  auto ws2 = WsClient::Connect("127.0.0.1", server_->port(), "/api/v1/ws");
  ASSERT_TRUE(ws2.ok());
  EXPECT_TRUE((*ws2)->Receive().ok());
  EXPECT_FALSE(WsClient::Connect("127.0.0.1", server_->port(), "/api/v1/elsewhere").ok());

  HttpClient c("127.0.0.1", server_->port());
  ASSERT_EQ(c.Request("GET", "/api/v1/health")->status, 200);
  std::string text = metrics_.RenderPrometheus();
  EXPECT_NE(
      text.find(
          "kiln_http_requests_total{method=\"GET\",route=\"/api/v1/health\",status=\"200\"} 1"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("kiln_open_websockets"), std::string::npos);
}

TEST_F(HttpServerTest, ConnectionsPerClientAreCapped) {
  ServerOptions o;
  o.max_connections_per_client = 2;
  Start(o);
  auto a = WsClient::Connect("127.0.0.1", server_->port(), "/api/v1/ws");
  auto b = WsClient::Connect("127.0.0.1", server_->port(), "/api/v1/ws");
  ASSERT_TRUE(a.ok() && b.ok());
  auto c = WsClient::Connect("127.0.0.1", server_->port(), "/api/v1/ws");
  EXPECT_FALSE(c.ok());
}

TEST_F(HttpServerTest, StopClosesWebSocketsCleanly) {
  Start();
  auto ws = WsClient::Connect("127.0.0.1", server_->port(), "/api/v1/ws");
  ASSERT_TRUE(ws.ok());
  ASSERT_TRUE((*ws)->Receive().ok());
  server_->Stop();
  EXPECT_FALSE((*ws)->Receive(std::chrono::milliseconds(2000)).ok());
  EXPECT_EQ(echo_.closes.load(), 1);
}

}  // namespace
}  // namespace kiln
