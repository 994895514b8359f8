#include "storage/s3/sigv4.h"

#include <gtest/gtest.h>

#include "storage/s3/s3_client.h"

namespace kiln {
namespace {

// AWS's published example (S3 API reference, "Signature Calculations for
// the Authorization Header", GET Object): a request signed with these keys
// at this time has exactly this signature.
TEST(SigV4, MatchesAwsPublishedGetObjectExample) {
  S3Credentials c{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1"};
  SigV4Request r;
  r.method = "GET";
  r.path = "/test.txt";
  r.headers = {{"host", "examplebucket.s3.amazonaws.com"},
               {"range", "bytes=0-9"},
               {"x-amz-content-sha256", kEmptyPayloadSha256},
               {"x-amz-date", "20130524T000000Z"}};
  EXPECT_EQ(
      CanonicalRequest(r),
      "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
      "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
      "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(SigV4Authorization(r, c, "20130524T000000Z"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, QueryParametersAreEncodedAndSorted) {
  SigV4Request r;
  r.method = "POST";
  r.path = "/bucket/key";
  r.query = {{"uploads", ""}, {"partNumber", "2"}, {"uploadId", "a/b+c"}};
  r.headers = {{"host", "h"}};
  EXPECT_EQ(CanonicalRequest(r).substr(0, 60),
            std::string("POST\n/bucket/key\npartNumber=2&uploadId=a%2Fb%2Bc&uploads=\nhost:h\n")
                .substr(0, 60));
}

TEST(SigV4, EncodingKeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(SigV4Encode("a b/c~d*é", false), "a%20b%2Fc~d%2A%C3%A9");
  EXPECT_EQ(SigV4Encode("artifacts/ab cd", true), "artifacts/ab%20cd");
  EXPECT_EQ(AmzDate(0), "19700101T000000Z");
  EXPECT_EQ(Sha256Hex(""), kEmptyPayloadSha256);
}

TEST(SigV4, PresignedUrlsCarryTheirSignatureInTheQuery) {
  S3Credentials c{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1"};
  std::string url = PresignedUrl("GET", "https://examplebucket.s3.amazonaws.com", "/test.txt", c,
                                 "20130524T000000Z", 86400);
  EXPECT_EQ(url.rfind("https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-"
                      "SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%"
                      "2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-"
                      "SignedHeaders=host&X-Amz-Signature=",
                      0),
            0u)
      << url;
  // AWS's published presigned example (Authenticating Requests: Using Query
  // Parameters) has this signature for these inputs.
  EXPECT_EQ(url.substr(url.size() - 64),
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

}  // namespace
}  // namespace kiln

namespace kiln {
namespace {

// The store's error documents become errors that name the cause.
TEST(S3Error, EachCodeNamesItsCause) {
  struct Case {
    long status;
    const char* code;
    Code want;
    const char* says;
  } cases[] = {
      {403, "SignatureDoesNotMatch", Code::kPermissionDenied, "check the access key and secret"},
      {403, "InvalidAccessKeyId", Code::kPermissionDenied, "refused the credentials"},
      {404, "NoSuchBucket", Code::kNotFound, "the bucket does not exist"},
      {403, "RequestTimeTooSkewed", Code::kFailedPrecondition, "clock"},
      {404, "NoSuchKey", Code::kNotFound, "NoSuchKey"},
      {503, "SlowDown", Code::kUnavailable, "busy or failing"},
      {400, "QuotaExceeded", Code::kInsufficientStorage, "QuotaExceeded"},
      {400, "MalformedXML", Code::kIOError, "MalformedXML: bad &"},
  };
  for (const Case& c : cases) {
    std::string body = std::string("<?xml version=\"1.0\"?><Error><Code>") + c.code +
                       "</Code><Message>bad &amp; wrong</Message></Error>";
    Status st = S3Error(c.status, body, "PUT http://s3/b/k");
    EXPECT_EQ(st.code(), c.want) << c.code;
    EXPECT_NE(st.message().find(c.says), std::string::npos) << st.message();
    EXPECT_EQ(st.message().rfind("PUT http://s3/b/k: ", 0), 0u) << st.message();
  }
  EXPECT_EQ(S3Error(500, "", "GET x").code(), Code::kUnavailable);
  EXPECT_NE(S3Error(418, "", "GET x").message().find("HTTP 418"), std::string::npos);
}

}  // namespace
}  // namespace kiln
