// REST round trips for every endpoint of docs/api.md against a real server.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "model/meta.h"
#include "server/testing/client.h"
#include "server/testing/server_fixture.h"

namespace kiln {
namespace {

using json = nlohmann::json;
using testing::ClientResponse;
using testing::HttpClient;
using testing::ServerFixture;

class ApiTest : public ::testing::Test {
 protected:
  json Call(const std::string& method, const std::string& path, int expect_status,
            const json& body = nullptr, const std::map<std::string, std::string>& headers = {}) {
    auto r = client_.Request(method, path, body.is_null() ? "" : body.dump(), headers);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return json();
    EXPECT_EQ(r->status, expect_status) << method << " " << path << " → " << r->body;
    last_ = *r;
    return json::parse(r->body, nullptr, false);
  }

  ServerFixture server_;
  HttpClient client_{"127.0.0.1", server_.port()};
  ClientResponse last_;
};

TEST_F(ApiTest, ProjectsBranchesTagsHistoryTreeNodesDiff) {
  EXPECT_EQ(Call("GET", "/api/v1/health", 200)["status"], "ok");
  EXPECT_EQ(Call("GET", "/api/v1/projects", 200)["projects"].size(), 0u);
  json created = Call("POST", "/api/v1/projects", 201, {{"name", "astro"}, {"description", "sky"}});
  std::string first = created["commit"];
  Call("POST", "/api/v1/projects", 409, {{"name", "astro"}});
  Call("POST", "/api/v1/projects", 400, {{"name", "a/b"}});
  Call("POST", "/api/v1/projects", 400, {{"nom", "x"}});
  EXPECT_EQ(Call("GET", "/api/v1/projects", 200)["projects"][0]["description"], "sky");
  EXPECT_EQ(Call("GET", "/api/v1/projects/astro", 200)["branches"][0]["name"], "main");
  Call("GET", "/api/v1/projects/nope", 404);

  // A patch: a folder under the root.
  std::string folder = "0a6f5d2e-1111-4222-8333-444455556666";
  json patch = {{"message", "Add data folder"},
                {"ops",
                 {{{"op", "create"},
                   {"guid", folder},
                   {"parent", RootGuid()},
                   {"base", MetaGuid("Folder")},
                   {"attrs", {{"name", "data"}}}}}}};
  json c1 = Call("POST", "/api/v1/projects/astro/branches/main/patches", 201, patch);
  EXPECT_EQ(c1["parent"], first);
  Call("POST", "/api/v1/projects/astro/branches/main/patches", 400, {{"ops", "nope"}});
  Call("POST", "/api/v1/projects/astro/branches/main/patches", 400,
       {{"ops", {{{"op", "set_attr"}, {"node", "not-a-guid"}, {"name", "x"}, {"value", 1}}}}});

  json node = Call("GET", "/api/v1/projects/astro/nodes/" + folder + "?ref=main", 200);
  EXPECT_EQ(node["attrs"]["name"], "data");
  EXPECT_EQ(node["meta"], "Folder");
  Call("GET", "/api/v1/projects/astro/nodes/" + folder + "?ref=" + first, 404);
  Call("GET", "/api/v1/projects/astro/nodes/xyz", 400);

  json tree = Call("GET", "/api/v1/projects/astro/tree?ref=main", 200);
  EXPECT_EQ(tree["commit"], c1["commit"]);
  EXPECT_TRUE(tree["tree"]["nodes"].contains(folder));
  // The tree's ETag is its commit: a client that has it gets 304, no body;
  // an older commit's ETag gets the new tree.
  {
    auto fresh = client_.Request("GET", "/api/v1/projects/astro/tree");
    ASSERT_TRUE(fresh.ok());
    std::string etag = "\"" + c1["commit"].get<std::string>() + "\"";
    EXPECT_EQ(fresh->headers["etag"], etag);
    EXPECT_EQ(fresh->headers["cache-control"], "no-cache");
    EXPECT_EQ(json::parse(fresh->body), tree);  // the second answer (cached) is the same
    auto same =
        client_.Request("GET", "/api/v1/projects/astro/tree", "", {{"If-None-Match", etag}});
    ASSERT_TRUE(same.ok());
    EXPECT_EQ(same->status, 304);
    EXPECT_TRUE(same->body.empty());
    auto stale = client_.Request("GET", "/api/v1/projects/astro/tree", "",
                                 {{"If-None-Match", "\"" + first + "\""}});
    ASSERT_TRUE(stale.ok());
    EXPECT_EQ(stale->status, 200);
    EXPECT_EQ(json::parse(stale->body)["commit"], c1["commit"]);
  }

  json log = Call("GET", "/api/v1/projects/astro/commits?ref=main&limit=10", 200);
  ASSERT_EQ(log["commits"].size(), 2u);
  EXPECT_EQ(log["commits"][0]["message"], "Add data folder");
  EXPECT_EQ(log["commits"][0]["author"], "local");
  Call("GET", "/api/v1/projects/astro/commits?limit=abc", 400);
  std::string short_id = c1["commit"].get<std::string>().substr(0, 10);
  EXPECT_EQ(Call("GET", "/api/v1/projects/astro/commits/" + short_id, 200)["commit"], c1["commit"]);

  json diff = Call("GET", "/api/v1/projects/astro/diff?from=" + first + "&to=main", 200);
  ASSERT_EQ(diff["ops"].size(), 1u);
  EXPECT_EQ(diff["ops"][0]["op"], "create");
  Call("GET", "/api/v1/projects/astro/diff?from=main", 400);

  // Branches and tags, including a tag name with a slash.
  Call("POST", "/api/v1/projects/astro/branches", 201, {{"name", "exp"}, {"from", first}});
  Call("POST", "/api/v1/projects/astro/branches", 409, {{"name", "exp"}, {"from", "main"}});
  Call("POST", "/api/v1/projects/astro/branches", 404, {{"name", "x"}, {"from", "nowhere"}});
  EXPECT_EQ(Call("GET", "/api/v1/projects/astro/branches", 200)["branches"].size(), 2u);
  Call("POST", "/api/v1/projects/astro/tags", 201, {{"name", "run/1"}, {"ref", "main"}});
  Call("POST", "/api/v1/projects/astro/tags", 409, {{"name", "run/1"}, {"ref", first}});
  EXPECT_EQ(Call("GET", "/api/v1/projects/astro/tags", 200)["tags"][0]["name"], "run/1");
  EXPECT_EQ(Call("GET", "/api/v1/projects/astro/tree?ref=run%2F1", 200)["commit"], c1["commit"]);
  Call("DELETE", "/api/v1/projects/astro/tags/run%2F1", 200);

  // Merge exp (which edits the root) into main.
  json rename = {
      {"ops",
       {{{"op", "set_attr"}, {"node", RootGuid()}, {"name", "name"}, {"value", "Astronomy"}}}}};
  Call("POST", "/api/v1/projects/astro/branches/exp/patches", 201, rename);
  json merged =
      Call("POST", "/api/v1/projects/astro/merge", 200, {{"from", "exp"}, {"into", "main"}});
  EXPECT_FALSE(merged["up_to_date"].get<bool>());
  json root = Call("GET", "/api/v1/projects/astro/nodes/" + RootGuid(), 200);
  EXPECT_EQ(root["attrs"]["name"], "Astronomy");
  EXPECT_EQ(Call("GET", "/api/v1/projects/astro/nodes/" + folder, 200)["attrs"]["name"], "data");

  // A conflicting merge lists its conflicts and changes nothing.
  Call("POST", "/api/v1/projects/astro/branches/exp/patches", 201,
       {{"ops", {{{"op", "set_attr"}, {"node", RootGuid()}, {"name", "name"}, {"value", "A"}}}}});
  Call("POST", "/api/v1/projects/astro/branches/main/patches", 201,
       {{"ops", {{{"op", "set_attr"}, {"node", RootGuid()}, {"name", "name"}, {"value", "B"}}}}});
  json conflict =
      Call("POST", "/api/v1/projects/astro/merge", 409, {{"from", "exp"}, {"into", "main"}});
  ASSERT_EQ(conflict["conflicts"].size(), 1u);
  EXPECT_EQ(conflict["conflicts"][0]["field"], "attrs/name");

  // Export, then import under another name: the same history.
  auto exported = client_.Request("GET", "/api/v1/projects/astro/export");
  ASSERT_EQ(exported->status, 200);
  EXPECT_EQ(exported->body.substr(0, 8), "KILNEXP1");
  auto imported = client_.Request("POST", "/api/v1/projects/import?name=astro2", exported->body,
                                  {{"Content-Type", "application/octet-stream"}});
  EXPECT_EQ(imported->status, 201) << imported->body;
  EXPECT_EQ(Call("GET", "/api/v1/projects/astro2/commits?ref=main", 200)["commits"],
            Call("GET", "/api/v1/projects/astro/commits?ref=main", 200)["commits"]);
  EXPECT_EQ(client_.Request("POST", "/api/v1/projects/import", exported->body)->status, 409);
  EXPECT_EQ(client_.Request("POST", "/api/v1/projects/import", "not an export")->status, 400);

  Call("DELETE", "/api/v1/projects/astro/branches/exp", 200);
  Call("DELETE", "/api/v1/projects/astro", 200);
  Call("GET", "/api/v1/projects/astro", 404);
}

TEST_F(ApiTest, MetaRuleViolationIs422AndNamesTheRule) {
  Call("POST", "/api/v1/projects", 201, {{"name", "p"}});
  // A connection directly under the root: not inside a pipeline.
  json patch = {{"ops",
                 {{{"op", "create"},
                   {"guid", "0a6f5d2e-1111-4222-8333-444455556677"},
                   {"parent", RootGuid()},
                   {"base", MetaGuid("Connection")}}}}};
  json err = Call("POST", "/api/v1/projects/p/branches/main/patches", 422, patch);
  EXPECT_EQ(err["error"]["code"], "FailedPrecondition");
  EXPECT_NE(err["error"]["message"].get<std::string>().find("0a6f5d2e"), std::string::npos);
  EXPECT_EQ(Call("GET", "/api/v1/projects/p/commits", 200)["commits"].size(), 1u);
}

TEST_F(ApiTest, OpenApiAndMetricsAndErrors) {
  json doc = Call("GET", "/api/v1/openapi.json", 200);
  EXPECT_EQ(doc["openapi"], "3.0.3");
  EXPECT_TRUE(doc["paths"].contains("/api/v1/projects/{p}/branches/{b}/patches"));
  auto m = client_.Request("GET", "/api/v1/metrics");
  EXPECT_NE(m->body.find("kiln_http_requests_total"), std::string::npos);
  Call("GET", "/api/v1/nothing", 404);
  Call("PATCH", "/api/v1/projects", 405);
  auto bad = client_.Request("POST", "/api/v1/projects", "{\"name\": ");
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(json::parse(bad->body)["error"]["code"], "InvalidArgument");
}

TEST_F(ApiTest, ForkAProjectFromACommit) {
  Call("POST", "/api/v1/projects", 201, {{"name", "src"}});
  std::string folder = "0a6f5d2e-1111-4222-8333-444455550001";
  json c1 = Call("POST", "/api/v1/projects/src/branches/main/patches", 201,
                 {{"ops",
                   {{{"op", "create"},
                     {"guid", folder},
                     {"parent", RootGuid()},
                     {"base", MetaGuid("Folder")},
                     {"attrs", {{"name", "data"}}}}}}});
  Call("POST", "/api/v1/projects/src/branches/main/patches", 201,
       {{"ops", {{{"op", "set_attr"}, {"node", folder}, {"name", "name"}, {"value", "later"}}}}});
  std::string at = c1["commit"].get<std::string>();

  // From an abbreviated commit: the fork's main holds that commit's tree.
  json forked = Call("POST", "/api/v1/projects", 201,
                     {{"name", "fork"},
                      {"description", "a copy"},
                      {"from", {{"project", "src"}, {"ref", at.substr(0, 10)}}}});
  EXPECT_EQ(forked["name"], "fork");
  json src_commit = Call("GET", "/api/v1/projects/src/commits/" + at, 200);
  json log = Call("GET", "/api/v1/projects/fork/commits?ref=main", 200)["commits"];
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0]["commit"], forked["commit"]);
  EXPECT_EQ(log[0]["root"], src_commit["root"]);
  EXPECT_EQ(log[0]["parents"].size(), 0u);
  EXPECT_NE(log[0]["message"].get<std::string>().find("Fork of src"), std::string::npos);
  EXPECT_EQ(Call("GET", "/api/v1/projects/fork/nodes/" + folder, 200)["attrs"]["name"], "data");
  EXPECT_EQ(Call("GET", "/api/v1/projects/fork", 200)["description"], "a copy");

  // The fork is its own project: a patch there leaves the source alone.
  Call("POST", "/api/v1/projects/fork/branches/main/patches", 201,
       {{"ops", {{{"op", "set_attr"}, {"node", folder}, {"name", "name"}, {"value", "mine"}}}}});
  EXPECT_EQ(Call("GET", "/api/v1/projects/src/nodes/" + folder, 200)["attrs"]["name"], "later");

  // Without a ref: the head of main.
  Call("POST", "/api/v1/projects", 201, {{"name", "fork2"}, {"from", {{"project", "src"}}}});
  EXPECT_EQ(Call("GET", "/api/v1/projects/fork2/nodes/" + folder, 200)["attrs"]["name"], "later");

  // Bad sources create nothing.
  Call("POST", "/api/v1/projects", 404, {{"name", "f3"}, {"from", {{"project", "nope"}}}});
  Call("POST", "/api/v1/projects", 404,
       {{"name", "f3"}, {"from", {{"project", "src"}, {"ref", "no-such-branch"}}}});
  Call("POST", "/api/v1/projects", 400, {{"name", "f3"}, {"from", "src"}});
  Call("POST", "/api/v1/projects", 409, {{"name", "fork"}, {"from", {{"project", "src"}}}});
  Call("GET", "/api/v1/projects/f3", 404);
}

class AuthApiTest : public ::testing::Test {
 protected:
  AuthApiTest() : server_(/*auth=*/true) {
    EXPECT_TRUE(server_.access.AddUser("ada", "ada-password", false).ok());
    EXPECT_TRUE(server_.access.AddUser("eve", "eve-password", false).ok());
  }
  ServerFixture server_;
  HttpClient client_{"127.0.0.1", server_.port()};
};

TEST_F(AuthApiTest, SignInRolesAndNoLeaks) {
  EXPECT_EQ(client_.Request("GET", "/api/v1/projects")->status, 401);
  EXPECT_EQ(client_.Request("GET", "/api/v1/health")->status, 200);
  auto bad = client_.Request("POST", "/api/v1/login", R"({"user":"ada","password":"wrong"})");
  EXPECT_EQ(bad->status, 401);
  auto login =
      client_.Request("POST", "/api/v1/login", R"({"user":"ada","password":"ada-password"})");
  ASSERT_EQ(login->status, 200);
  std::string cookie = login->headers["set-cookie"];
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  std::map<std::string, std::string> ada = {{"Cookie", cookie.substr(0, cookie.find(';'))}};
  EXPECT_EQ(client_.Request("POST", "/api/v1/projects", R"({"name":"secret"})", ada)->status, 201);

  std::string eve_token = *server_.access.CreateToken("eve", "script");
  std::map<std::string, std::string> eve = {{"Authorization", "Bearer " + eve_token}};
  // Eve sees nothing: not in the list, and the same 403 for a project that
  // exists and one that does not.
  auto list = client_.Request("GET", "/api/v1/projects", "", eve);
  EXPECT_EQ(nlohmann::json::parse(list->body)["projects"].size(), 0u);
  auto secret = client_.Request("GET", "/api/v1/projects/secret/tree", "", eve);
  auto none = client_.Request("GET", "/api/v1/projects/none/tree", "", eve);
  EXPECT_EQ(secret->status, 403);
  EXPECT_EQ(none->status, 403);
  EXPECT_EQ(
      nlohmann::json::parse(secret->body)["error"]["message"].get<std::string>().find("exist"),
      std::string::npos);

  // Eve cannot fork what she cannot read.
  EXPECT_EQ(client_
                .Request("POST", "/api/v1/projects",
                         R"({"name":"copy","from":{"project":"secret"}})", eve)
                ->status,
            403);
  EXPECT_EQ(client_.Request("GET", "/api/v1/projects/copy", "", ada)->status, 403);

  // Ada gives Eve read access: she can read, not write.
  EXPECT_EQ(client_.Request("PUT", "/api/v1/projects/secret/access/eve", R"({"role":"read"})", ada)
                ->status,
            200);
  EXPECT_EQ(client_.Request("GET", "/api/v1/projects/secret/tree", "", eve)->status, 200);
  auto write = client_.Request("POST", "/api/v1/projects/secret/branches",
                               R"({"name":"b","from":"main"})", eve);
  EXPECT_EQ(write->status, 403);
  EXPECT_EQ(client_.Request("DELETE", "/api/v1/projects/secret", "", eve)->status, 403);
  // ...and fork it into a project of her own, of which she is the admin.
  EXPECT_EQ(client_
                .Request("POST", "/api/v1/projects",
                         R"({"name":"copy","from":{"project":"secret"}})", eve)
                ->status,
            201);
  EXPECT_EQ(
      client_
          .Request("POST", "/api/v1/projects/copy/branches", R"({"name":"b","from":"main"})", eve)
          ->status,
      201);
  EXPECT_EQ(
      client_.Request("GET", "/api/v1/projects", "", {{"Authorization", "Bearer kiln_t_forged"}})
          ->status,
      401);
}

}  // namespace
}  // namespace kiln
