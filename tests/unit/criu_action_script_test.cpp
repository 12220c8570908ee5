// criu::SetupNamespacesAction: the script CRIU runs at each step of a restore, answered by
// crun-lite while CRIU waits. Here the script is run as CRIU runs it (its path executed, the
// step and pid in CRTOOLS_* variables) by subprocess::run, watching its pipe as restore does.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <stdexcept>
#include <string>

#include "criu/action_script.hpp"
#include "crunlite/error.hpp"
#include "test_util.hpp"
#include "util/subprocess.hpp"

namespace crunlite::criu {
namespace {

// Runs the action's script for `step` (pid 4242), answering with `at_setup_namespaces`.
subprocess::Result run_step(SetupNamespacesAction& action, const std::string& step,
                            const std::function<void(int)>& at_setup_namespaces) {
    subprocess::Options options;
    options.env = std::vector<std::string>{"PATH=/usr/bin:/bin", "CRTOOLS_SCRIPT_ACTION=" + step, "CRTOOLS_INIT_PID=4242"};
    options.timeout_seconds = 20;
    options.watch_fd = action.request_fd();
    options.on_watch_readable = [&] { action.answer(at_setup_namespaces); };
    std::vector<std::string> args = action.criu_args();
    EXPECT_EQ(args.size(), 2u);
    EXPECT_EQ(args.at(0), "--action-script");
    return subprocess::run({args.at(1)}, options);
}

TEST(CriuActionScript, SetupNamespacesWaitsForTheHooksAndPassesWhenTheyPass) {
    test::TempDir dir;
    SetupNamespacesAction action(dir.path());
    int seen = 0;
    subprocess::Result r = run_step(action, "setup-namespaces", [&](int pid) { seen = pid; });
    EXPECT_TRUE(r.succeeded()) << subprocess::describe_exit(r.status);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(seen, 4242);
    EXPECT_FALSE(action.failure());
}

TEST(CriuActionScript, AFailingHookFailsTheStepAndIsKept) {
    test::TempDir dir;
    SetupNamespacesAction action(dir.path());
    subprocess::Result r = run_step(action, "setup-namespaces", [](int) { throw Error(".hooks.createRuntime[0]: exited with status 3"); });
    EXPECT_FALSE(r.succeeded());
    EXPECT_FALSE(r.timed_out);
    ASSERT_TRUE(action.failure());
    try {
        std::rethrow_exception(action.failure());
    } catch (const Error& e) {
        EXPECT_TRUE(test::contains(e.what(), ".hooks.createRuntime[0]")) << e.what();
    }
}

TEST(CriuActionScript, OtherStepsPassWithoutAsking) {
    test::TempDir dir;
    SetupNamespacesAction action(dir.path());
    bool asked = false;
    for (const char* step : {"pre-restore", "post-setup-namespaces", "post-restore", "post-resume"}) {
        subprocess::Result r = run_step(action, step, [&](int) { asked = true; });
        EXPECT_TRUE(r.succeeded()) << step;
    }
    EXPECT_FALSE(asked);
}

TEST(CriuActionScript, ItLivesInADirectoryOfItsOwnUnderTheStateRootAndGoesAway) {
    test::TempDir root;
    {
        SetupNamespacesAction action(root.path());
        std::string script = action.criu_args().at(1);
        std::string dir = script.substr(0, script.rfind('/'));
        // ':' keeps it out of `list` and apart from every container ID.
        EXPECT_EQ(dir.rfind(root.path() + "/:criu-action.", 0), 0u) << dir;
        struct stat st{};
        ASSERT_EQ(::stat(dir.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 0777, 0700u);
        ASSERT_EQ(::stat(script.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 0777, 0700u);
    }
    EXPECT_TRUE(std::filesystem::is_empty(root.path()));
}

}  // namespace
}  // namespace crunlite::criu
