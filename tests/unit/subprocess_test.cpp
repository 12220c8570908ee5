// util/subprocess: a program run without a shell, with input, captured output and a timeout.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <limits.h>
#include <unistd.h>

#include <stdexcept>
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

// Restore's systemd unit takes CRIU in by pid before CRIU runs: the child waits for after_fork.
TEST_F(Subprocess, TheChildRunsOnlyOnceAfterForkReturned) {
    std::string marker = ::testing::TempDir() + "crun-lite-after-fork-" + std::to_string(::getpid());
    ::unlink(marker.c_str());
    Options o;
    o.capture_stdout = true;
    pid_t seen = 0;
    bool marker_before = true;
    std::string child_exe;
    o.after_fork = [&](pid_t pid) {
        seen = pid;
        ::usleep(200 * 1000);  // a child that did not wait would have made the marker by now
        marker_before = ::access(marker.c_str(), F_OK) == 0;
        // However slow, a child that did not wait would have exec'd sh: it is still this program.
        char exe[PATH_MAX] = {};
        if (::readlink(("/proc/" + std::to_string(pid) + "/exe").c_str(), exe, sizeof exe - 1) > 0) child_exe = exe;
    };
    Result r = run({"sh", "-c", "touch \"$0\"; echo $$", marker}, o);
    EXPECT_TRUE(r.succeeded()) << r.output;
    EXPECT_FALSE(marker_before);
    char self[PATH_MAX] = {};
    ASSERT_GT(::readlink("/proc/self/exe", self, sizeof self - 1), 0);
    EXPECT_EQ(child_exe, self);
    EXPECT_EQ(r.output, std::to_string(seen) + "\n");
    ::unlink(marker.c_str());
}

TEST_F(Subprocess, AFailingAfterForkEndsTheChildUnrun) {
    std::string marker = ::testing::TempDir() + "crun-lite-after-fork-failed-" + std::to_string(::getpid());
    ::unlink(marker.c_str());
    Options o;
    pid_t child = 0;
    o.after_fork = [&](pid_t pid) {
        child = pid;
        throw std::runtime_error("no unit");
    };
    EXPECT_THROW(run({"touch", marker}, o), std::runtime_error);
    ASSERT_GT(child, 0);
    EXPECT_NE(::kill(child, 0), 0);  // reaped
    EXPECT_NE(::access(marker.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace crunlite::subprocess
