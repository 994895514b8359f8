// RunChildProcess: input and output, exit codes, deadlines, missing programs.
#include "core/child_process.h"

#include <gtest/gtest.h>

#include <csignal>

namespace kiln {
namespace {

TEST(ChildProcessTest, PassesStdinAndCapturesBothStreams) {
  ChildProcessOptions o;
  o.argv = {"/bin/sh", "-c", "cat; echo oops >&2; exit 3"};
  o.stdin_data = "hello\n";
  auto r = RunChildProcess(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->out, "hello\n");
  EXPECT_EQ(r->err, "oops\n");
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_FALSE(r->timed_out);
}

TEST(ChildProcessTest, LargeInputDoesNotDeadlock) {
  ChildProcessOptions o;
  o.argv = {"/bin/cat"};
  o.stdin_data = std::string(3 << 20, 'x');  // far over any pipe buffer
  o.max_output = 1 << 20;
  auto r = RunChildProcess(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out.size(), size_t(1) << 20);
  EXPECT_TRUE(r->output_truncated);
  EXPECT_EQ(r->exit_code, 0);
}

TEST(ChildProcessTest, ChildThatIgnoresItsInputIsFine) {
  ChildProcessOptions o;
  o.argv = {"/bin/true"};
  o.stdin_data = std::string(1 << 20, 'x');
  auto r = RunChildProcess(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0);
}

TEST(ChildProcessTest, DeadlineKillsTheWholeGroup) {
  ChildProcessOptions o;
  // The grandchild holds stdout open: only killing the group ends it.
  o.argv = {"/bin/sh", "-c", "sleep 30 & sleep 30"};
  o.timeout = std::chrono::milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  auto r = RunChildProcess(o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->signal, SIGKILL);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(ChildProcessTest, EnvironmentAddsAndReplaces) {
  ChildProcessOptions o;
  o.argv = {"/bin/sh", "-c", "printf '%s' \"$KILN_TEST_VAR\""};
  o.env = {"KILN_TEST_VAR=two"};
  auto r = RunChildProcess(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out, "two");
}

TEST(ChildProcessTest, MissingProgramIsNotFound) {
  ChildProcessOptions o;
  o.argv = {"/nonexistent/python3", "-c", "pass"};
  auto r = RunChildProcess(o);
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_EQ(RunChildProcess({}).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace kiln
