#include "server/router.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace kiln {
namespace {

// A streamed route: begin sees the headers and params before any body; the
// body goes to its sink; finish answers. Dispatch feeds it an in-memory body.
struct Collect : BodySink {
  std::string* into;
  explicit Collect(std::string* s) : into(s) {}
  Status Write(const char* data, size_t n) override {
    into->append(data, n);
    return Status::Ok();
  }
};

TEST(Router, StreamingRoutesTakeTheirBodyThroughASink) {
  Router router;
  std::string got;
  router.AddStreaming(
      "POST", "/api/v1/projects/{p}/artifacts",
      StreamingHandler{[&](HttpRequest& r) -> Result<std::unique_ptr<BodySink>> {
                         if (r.Query("name").empty()) return InvalidArgument("give a ?name=");
                         return std::unique_ptr<BodySink>(new Collect(&got));
                       },
                       [&](HttpRequest& r, std::unique_ptr<BodySink>) {
                         return HttpResponse::Json(201, {{"project", r.Param("p")}, {"got", got}});
                       }});
  router.Add("GET", "/api/v1/projects/{p}/artifacts",
             [](HttpRequest&) { return HttpResponse::Json(200, {}); });
  HttpRequest post;
  post.method = "POST";
  post.path = "/api/v1/projects/digits/artifacts";
  post.query["name"] = "x";
  post.body = "bytes";
  ASSERT_NE(router.StreamingFor(post), nullptr);
  EXPECT_EQ(post.Param("p"), "digits");
  HttpResponse r = router.Dispatch(post);
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(nlohmann::json::parse(r.body)["got"], "bytes");
  // Refused by begin: nothing is read.
  got.clear();
  post.query.clear();
  EXPECT_EQ(router.Dispatch(post).status, 400);
  EXPECT_TRUE(got.empty());
  // Other methods and paths are ordinary routes.
  HttpRequest get = post;
  get.method = "GET";
  EXPECT_EQ(router.StreamingFor(get), nullptr);
  EXPECT_EQ(router.Dispatch(get).status, 200);
}

TEST(Router, MatchesCapturesAndMethods) {
  Router router;
  router.Add("GET", "/api/v1/projects/{p}/branches", [](HttpRequest& r) {
    return HttpResponse::Json(200, {{"project", r.Param("p")}});
  });
  router.Add("POST", "/api/v1/projects/{p}/branches",
             [](HttpRequest&) { return HttpResponse::Json(201, {}); });
  HttpRequest get;
  get.method = "GET";
  get.path = "/api/v1/projects/digits/branches";
  HttpResponse r = router.Dispatch(get);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(nlohmann::json::parse(r.body)["project"], "digits");

  HttpRequest del = get;
  del.method = "DELETE";
  r = router.Dispatch(del);
  EXPECT_EQ(r.status, 405);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].second, "GET, POST");

  HttpRequest unknown = get;
  unknown.path = "/api/v1/nothing";
  r = router.Dispatch(unknown);
  EXPECT_EQ(r.status, 404);
  auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["error"]["code"], "NotFound");
  EXPECT_EQ(router.PatternFor("GET", "/api/v1/projects/x/branches"),
            "/api/v1/projects/{p}/branches");
}

TEST(Http, StatusMapping) {
  EXPECT_EQ(HttpStatusFor(Code::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(Code::kConflict), 409);
  EXPECT_EQ(HttpStatusFor(Code::kFailedPrecondition), 422);
  EXPECT_EQ(HttpStatusFor(Code::kResourceExhausted), 413);
  HttpResponse r = HttpResponse::Error(NotFound("no project 'x'"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["message"], "no project 'x'");
}

TEST(Http, SafeFileName) {
  EXPECT_EQ(SafeFileName("model.pt", "x.bin"), "model.pt");
  EXPECT_EQ(SafeFileName("../etc/passwd", "x.bin"), ".._etc_passwd");
  EXPECT_EQ(SafeFileName("a \"b\";\r\nSet-Cookie: c", "x.bin"), "a__b____Set-Cookie__c");
  EXPECT_EQ(SafeFileName("", "x.bin"), "x.bin");
  EXPECT_EQ(SafeFileName("..", "x.bin"), "x.bin");
  EXPECT_EQ(SafeFileName(std::string(300, 'a'), "x.bin").size(), 100u);
  EXPECT_EQ(SafeFileName("résumé", "x.bin"), "r__sum__");  // UTF-8 bytes each become '_'
}

TEST(Http, PercentDecoding) {
  EXPECT_EQ(*PercentDecode("a%20b+c", false), "a b+c");
  EXPECT_EQ(*PercentDecode("a%20b+c", true), "a b c");
  EXPECT_FALSE(PercentDecode("%2", false).ok());
  EXPECT_FALSE(PercentDecode("%zz", false).ok());
}

TEST(Http, JsonBodyErrors) {
  HttpRequest r;
  r.body = "{not json";
  EXPECT_EQ(ParseJsonBody(r).status().code(), Code::kInvalidArgument);
  r.body = "[1,2]";
  EXPECT_EQ(ParseJsonBody(r).status().code(), Code::kInvalidArgument);
  r.body = R"({"a":1})";
  EXPECT_TRUE(ParseJsonBody(r).ok());
}

}  // namespace
}  // namespace kiln
