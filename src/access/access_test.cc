#include "access/access.h"

#include <gtest/gtest.h>

#include "store/memory_store.h"

namespace kiln {
namespace {

class AccessTest : public ::testing::Test {
 protected:
  MemoryStore store_;
  FakeClock clock_;
  Access access_{store_, clock_};
};

TEST_F(AccessTest, UsersLoginAndSessions) {
  ASSERT_TRUE(access_.AddUser("ada", "correct horse", false).ok());
  EXPECT_EQ(access_.AddUser("ada", "another pass", false).code(), Code::kAlreadyExists);
  EXPECT_EQ(access_.AddUser("bob", "short", false).code(), Code::kInvalidArgument);
  EXPECT_EQ(access_.AddUser("../etc", "long enough", false).code(), Code::kInvalidArgument);
  EXPECT_EQ(access_.AddUser("local", "long enough", false).code(), Code::kInvalidArgument);

  EXPECT_EQ(access_.Login("ada", "wrong password").status().code(), Code::kUnauthenticated);
  EXPECT_EQ(access_.Login("nobody", "correct horse").status().code(), Code::kUnauthenticated);
  auto session = access_.Login("ada", "correct horse", 1000);
  ASSERT_TRUE(session.ok());
  auto who = access_.Authenticate(*session);
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->user, "ada");
  EXPECT_TRUE(who->session);
  clock_.Advance(1001);
  EXPECT_EQ(access_.Authenticate(*session).status().code(), Code::kUnauthenticated);
}

TEST_F(AccessTest, TokensAreStoredOnlyAsHashes) {
  ASSERT_TRUE(access_.AddUser("ci", "a long password", false).ok());
  auto token = access_.CreateToken("ci", "worker");
  ASSERT_TRUE(token.ok());
  auto refs = store_.ListRefs("tokens/");
  ASSERT_EQ(refs->size(), 1u);
  EXPECT_EQ(refs->front().first.find(*token), std::string::npos);
  EXPECT_EQ(access_.Authenticate(*token)->user, "ci");
  ASSERT_TRUE(access_.Revoke(*token).ok());
  EXPECT_EQ(access_.Authenticate(*token).status().code(), Code::kUnauthenticated);
  EXPECT_EQ(access_.Authenticate("garbage").status().code(), Code::kUnauthenticated);
}

TEST_F(AccessTest, RolesAndWhatOthersLearn) {
  ASSERT_TRUE(access_.AddUser("ada", "correct horse", false).ok());
  ASSERT_TRUE(access_.AddUser("root", "correct horse", true).ok());
  Status none = access_.Check("ada", "secret-project", Role::kRead);
  Status missing = access_.Check("ada", "no-such-project", Role::kRead);
  EXPECT_EQ(none.code(), Code::kPermissionDenied);
  // The same answer for a project that exists and one that does not.
  EXPECT_EQ(missing.code(), Code::kPermissionDenied);
  EXPECT_EQ(none.message().find("exist"), std::string::npos);

  ASSERT_TRUE(access_.SetRole("digits", "ada", Role::kRead).ok());
  EXPECT_TRUE(access_.Check("ada", "digits", Role::kRead).ok());
  Status write = access_.Check("ada", "digits", Role::kWrite);
  EXPECT_EQ(write.code(), Code::kPermissionDenied);
  EXPECT_NE(write.message().find("write"), std::string::npos);
  EXPECT_TRUE(access_.Check("root", "anything", Role::kAdmin).ok());
  EXPECT_TRUE(access_.Check(Access::kLocalUser, "anything", Role::kAdmin).ok());

  auto token = access_.CreateToken("ada", "t");
  ASSERT_TRUE(access_.RemoveUser("ada").ok());
  EXPECT_EQ(access_.Authenticate(*token).status().code(), Code::kUnauthenticated);
  EXPECT_EQ(*access_.RoleOf("digits", "ada"), Role::kNone);
  EXPECT_EQ(access_.ListUsers()->size(), 1u);
}

}  // namespace
}  // namespace kiln
