// util/subprocess: a program run without a shell, with input, captured output and a timeout.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <string>

#include "util/subprocess.hpp"

namespace crunlite::subprocess {
namespace {

// The runtime ignores SIGPIPE (cli/main.cpp); so do these tests, where a child may not read.
class Subprocess : public ::testing::Test {
protected:
    void SetUp() override { previous_ = ::signal(SIGPIPE, SIG_IGN); }
    void TearDown() override { ::signal(SIGPIPE, previous_); }
    sighandler_t previous_ = SIG_DFL;
};

TEST_F(Subprocess, ArgumentsAreNotShellSyntax) {
    Options o;
    o.capture_stdout = true;
    Result r = run({"echo", "$HOME;", "`id`", "a  b"}, o);
    EXPECT_TRUE(r.succeeded());
    EXPECT_EQ(r.output, "$HOME; `id` a  b\n");
}

TEST_F(Subprocess, InputAndBothOutputs) {
    Options o;
    o.input = "from stdin";
    o.capture_stdout = o.capture_stderr = true;
    Result r = run({"sh", "-c", "cat; echo ' and' >&2"}, o);
    EXPECT_TRUE(r.succeeded());
    EXPECT_EQ(r.output, "from stdin and\n");
}

TEST_F(Subprocess, AChildThatReadsNoInputIsNotFailing) {
    Options o;
    o.input = std::string(1 << 20, 'x');  // more than a pipe holds
    EXPECT_TRUE(run({"true"}, o).succeeded());
}

TEST_F(Subprocess, ExitStatusAndItsDescription) {
    Result r = run({"sh", "-c", "exit 3"});
    EXPECT_FALSE(r.succeeded());
    EXPECT_EQ(describe_exit(r.status), "exited with status 3");
    r = run({"sh", "-c", "kill -TERM $$"});
    EXPECT_EQ(describe_exit(r.status), "was killed by signal Terminated");
}

TEST_F(Subprocess, AMissingProgramExits127AndSaysSo) {
    Options o;
    o.capture_stderr = true;
    Result r = run({"crun-lite-no-such-program"}, o);
    ASSERT_TRUE(WIFEXITED(r.status));
    EXPECT_EQ(WEXITSTATUS(r.status), 127);
    EXPECT_EQ(r.output.rfind("exec crun-lite-no-such-program: ", 0), 0u) << r.output;
}

TEST_F(Subprocess, ProgramAndEnvironmentGivenExactly) {
    Options o;
    o.program = "/bin/sh";
    o.env = std::vector<std::string>{"ONLY=this"};
    o.capture_stdout = true;
    Result r = run({"named-sh", "-c", "echo $0 $ONLY; env | wc -l"}, o);
    EXPECT_TRUE(r.succeeded());
    EXPECT_EQ(r.output.substr(0, r.output.find('\n')), "named-sh this");
}

TEST_F(Subprocess, ATimeoutKills) {
    Options o;
    o.timeout_seconds = 0;
    Result r = run({"sleep", "30"}, o);
    EXPECT_TRUE(r.timed_out);
    EXPECT_FALSE(r.succeeded());
    EXPECT_TRUE(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGKILL);
    o.timeout_seconds = 30;
    EXPECT_TRUE(run({"true"}, o).succeeded());  // a quick child does not wait for the timeout
}

TEST_F(Subprocess, OutputIsCutAtTheLimit) {
    Options o;
    o.capture_stdout = true;
    o.output_limit = 10;
    Result r = run({"sh", "-c", "yes | head -c 100000"}, o);
    EXPECT_TRUE(r.succeeded());
    EXPECT_EQ(r.output.size(), 10u);
}

}  // namespace
}  // namespace crunlite::subprocess
