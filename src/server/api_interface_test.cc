// The operation-interface endpoints against a real server and the real
// python/kiln/interface.py: parse, errors with positions, update, bad bodies,
// access, and a missing Python.
#include "server/api_interface.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/testing/client.h"
#include "server/testing/server_fixture.h"

namespace kiln {
namespace {

using json = nlohmann::json;
using testing::HttpClient;
using testing::ServerFixture;

const char* kCode = R"(from kiln import Operation


class Scale(Operation):
    """Multiplies by a factor."""

    def __init__(self, factor: float = 2.0):
        self.factor = factor

    def execute(self, x):
        y = x * self.factor
        return y
)";

class ApiInterfaceTest : public ::testing::Test {
 protected:
  ApiInterfaceTest() { EXPECT_TRUE(server_.repo.CreateProject("p", "", "local").ok()); }

  json Call(const std::string& path, int expect_status, const std::string& body) {
    auto r = client_.Request("POST", path, body);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return json();
    EXPECT_EQ(r->status, expect_status) << path << " → " << r->body;
    return json::parse(r->body, nullptr, false);
  }

  ServerFixture server_;
  HttpClient client_{"127.0.0.1", server_.port()};
};

TEST_F(ApiInterfaceTest, ParseGivesTheInterface) {
  json reply = Call("/api/v1/projects/p/interface/parse", 200, json{{"code", kCode}}.dump());
  const json& i = reply["interface"];
  EXPECT_EQ(i["name"], "Scale");
  ASSERT_EQ(i["inputs"].size(), 1u);
  EXPECT_EQ(i["inputs"][0]["name"], "x");
  ASSERT_EQ(i["outputs"].size(), 1u);
  EXPECT_EQ(i["outputs"][0]["name"], "y");
  ASSERT_EQ(i["attributes"].size(), 1u);
  EXPECT_EQ(i["attributes"][0]["name"], "factor");
  EXPECT_EQ(i["attributes"][0]["type"], "float");
  EXPECT_EQ(i["attributes"][0]["default"], 2.0);
}

TEST_F(ApiInterfaceTest, SyntaxErrorIs422WithItsPosition) {
  std::string code = "class Op(Operation):\n    def execute(self, x):\n        return x +\n";
  json reply = Call("/api/v1/projects/p/interface/parse", 422, json{{"code", code}}.dump());
  EXPECT_EQ(reply["error"]["code"], "FailedPrecondition");
  EXPECT_NE(reply["error"]["message"].get<std::string>().find("syntax"), std::string::npos);
  EXPECT_EQ(reply["error"]["line"], 3);
  EXPECT_TRUE(reply["error"]["column"].is_number_integer());

  // Valid Python without an operation: 422 too, without a position.
  json none = Call("/api/v1/projects/p/interface/parse", 422, json{{"code", "x = 1\n"}}.dump());
  EXPECT_FALSE(none["error"]["message"].get<std::string>().empty());
}

TEST_F(ApiInterfaceTest, UpdateRewritesTheCode) {
  json parsed = Call("/api/v1/projects/p/interface/parse", 200, json{{"code", kCode}}.dump());
  json iface = parsed["interface"];
  iface["inputs"][0]["name"] = "images";
  iface["attributes"].push_back({{"name", "bias"}, {"type", "int"}, {"default", 3}});
  json reply = Call("/api/v1/projects/p/interface/update", 200,
                    json{{"code", kCode}, {"interface", iface}}.dump());
  std::string code = reply["code"];
  EXPECT_NE(code.find("def execute(self, images)"), std::string::npos) << code;
  EXPECT_NE(code.find("bias=3"), std::string::npos) << code;
  EXPECT_NE(code.find("\"\"\"Multiplies by a factor.\"\"\""), std::string::npos) << code;

  // Round trip: the new code derives the edited interface.
  json again = Call("/api/v1/projects/p/interface/parse", 200, json{{"code", code}}.dump());
  EXPECT_EQ(again["interface"]["inputs"][0]["name"], "images");
  EXPECT_EQ(again["interface"]["attributes"].size(), 2u);

  // An interface the code cannot take: 422 with a message.
  json bad = iface;
  bad["inputs"][0]["name"] = "not a name";
  json err = Call("/api/v1/projects/p/interface/update", 422,
                  json{{"code", kCode}, {"interface", bad}}.dump());
  EXPECT_FALSE(err["error"]["message"].get<std::string>().empty());
}

TEST_F(ApiInterfaceTest, MalformedBodiesAre400) {
  for (const char* body : {"{\"code\": ", "[]", "{}", "{\"code\": 3}"}) {
    json r = Call("/api/v1/projects/p/interface/parse", 400, body);
    EXPECT_EQ(r["error"]["code"], "InvalidArgument") << body;
  }
  Call("/api/v1/projects/p/interface/update", 400, json{{"code", kCode}}.dump());
  Call("/api/v1/projects/p/interface/update", 400,
       json{{"code", kCode}, {"interface", "nope"}}.dump());
  // Over the size limit.
  std::string big(server_.interface_ctx.options().max_code_bytes + 1, '#');
  Call("/api/v1/projects/p/interface/parse", 413, json{{"code", big}}.dump());
}

TEST(ApiInterfaceAccessTest, NeedsReadAccessToTheProject) {
  ServerFixture server(/*auth=*/true);
  ASSERT_TRUE(server.access.AddUser("eve", "eve-password", false).ok());
  ASSERT_TRUE(server.repo.CreateProject("secret", "", "admin").ok());
  HttpClient client("127.0.0.1", server.port());
  std::string body = json{{"code", kCode}}.dump();
  EXPECT_EQ(client.Request("POST", "/api/v1/projects/secret/interface/parse", body)->status, 401);
  std::string token = *server.access.CreateToken("eve", "script");
  std::map<std::string, std::string> eve = {{"Authorization", "Bearer " + token}};
  EXPECT_EQ(client.Request("POST", "/api/v1/projects/secret/interface/parse", body, eve)->status,
            403);
  EXPECT_EQ(client.Request("POST", "/api/v1/projects/secret/interface/update", body, eve)->status,
            403);
  ASSERT_TRUE(server.access.SetRole("secret", "eve", Role::kRead).ok());
  EXPECT_EQ(client.Request("POST", "/api/v1/projects/secret/interface/parse", body, eve)->status,
            200);
}

TEST(ApiInterfaceNoPythonTest, MissingPythonIs503) {
  MemoryStore store;
  SystemClock clock;
  Access access(store, clock);
  InterfaceOptions o;
  o.python = "/nonexistent/python3";
  InterfaceContext ctx(access, o);
  Router router;
  RegisterInterfaceApi(router, ctx);
  HttpRequest r;
  r.method = "POST";
  r.path = "/api/v1/projects/p/interface/parse";
  r.user = std::string(Access::kLocalUser);
  r.body = json{{"code", kCode}}.dump();
  HttpResponse resp = router.Dispatch(r);
  EXPECT_EQ(resp.status, 503) << resp.body;
  EXPECT_NE(resp.body.find("Python"), std::string::npos) << resp.body;
}

}  // namespace
}  // namespace kiln
