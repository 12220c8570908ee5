// The planner (runtime/plan.hpp) without root: what a config and a host layout turn into, and
// the protocol shape both ends derive from the plan.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "crunlite/error.hpp"
#include "crunlite/spec.hpp"
#include "plan/planner.hpp"
#include "test_util.hpp"

namespace crunlite::planning {
namespace {

using nlohmann::json;

cgroups::Layout hybrid_layout() {
    cgroups::Layout layout;
    layout.mode = cgroups::Mode::hybrid;
    layout.hierarchies = {{"/sys/fs/cgroup/cpu", "cpu", false}, {"/sys/fs/cgroup/memory", "memory", false},
                          {"/sys/fs/cgroup/unified", "", true}};
    return layout;
}

cgroups::Layout v2_layout() {
    cgroups::Layout layout;
    layout.mode = cgroups::Mode::v2;
    layout.hierarchies = {{"/sys/fs/cgroup", "", true}};
    return layout;
}

class Planner : public ::testing::Test {
protected:
    Planner() {
        ::mkdir((dir / "rootfs").c_str(), 0755);
        config = spec::default_spec(false);
        config["root"]["path"] = dir / "rootfs";
    }
    // The plan of `create` (or `run` with start_over_socket) for the config as it is now.
    LaunchPlan plan(const cgroups::Layout& layout, bool start_over_socket = false, bool has_process = true) {
        spec = spec::parse_spec(config);
        CreateTarget target;
        target.id = "c1";
        target.bundle = dir.path();
        target.layout = layout;
        for (auto& h : layout.hierarchies) target.cgroup_dirs.push_back(h.mount_point + "/c1");
        target.start_over_socket = start_over_socket;
        target.has_process = has_process;
        return plan_create(spec, runtime::CreateOptions{}, target);
    }
    size_t index_of_mount(const std::string& type) {
        for (size_t i = 0; i < config["mounts"].size(); ++i)
            if (config["mounts"][i]["type"] == type) return i;
        return size_t(-1);
    }

    test::TempDir dir;
    json config;
    spec::Spec spec;
};

TEST_F(Planner, OnCgroupV1TheRuntimeMakesTheCgroupMountAndInitJoinsV1Itself) {
    LaunchPlan launch = plan(hybrid_layout());
    const CgroupPlan& cgroups = launch.init.cgroups;
    EXPECT_TRUE(cgroups.made_after_clone);
    ASSERT_TRUE(cgroups.mount_from_runtime.has_value());
    EXPECT_EQ(*cgroups.mount_from_runtime, index_of_mount("cgroup"));
    EXPECT_EQ(cgroups.v1_tasks_paths,
              (std::vector<std::string>{"/sys/fs/cgroup/cpu/c1/tasks", "/sys/fs/cgroup/memory/c1/tasks"}));
    sys::ExchangeShape shape = exchange_shape(launch.init);
    EXPECT_TRUE(shape.cgroups);
    EXPECT_TRUE(shape.cgroup_mounts);
    EXPECT_FALSE(shape.pid_handover);
    EXPECT_EQ(launch.clone_flags, CLONE_NEWPID);
    EXPECT_EQ(launch.init.unshare_flags & CLONE_NEWPID, 0);
}

TEST_F(Planner, OnCgroupV2InitMountsCgroup2ItselfInItsNamespace) {
    LaunchPlan launch = plan(v2_layout());  // the default config has a cgroup namespace
    EXPECT_FALSE(launch.init.cgroups.mount_from_runtime.has_value());
    EXPECT_TRUE(launch.init.cgroups.v1_tasks_paths.empty());
    EXPECT_TRUE(launch.init.new_cgroup_ns);
    EXPECT_FALSE(exchange_shape(launch.init).cgroup_mounts);
}

TEST_F(Planner, WithoutCgroupsOfItsOwnThereIsNoCgroupsMessage) {
    spec = spec::parse_spec(config);
    CreateTarget target;
    target.id = "c1";
    target.bundle = dir.path();
    target.layout = hybrid_layout();  // and no cgroup_dirs: an unprivileged user's container
    LaunchPlan launch = plan_create(spec, runtime::CreateOptions{}, target);
    sys::ExchangeShape shape = exchange_shape(launch.init);
    EXPECT_FALSE(shape.cgroups);
    EXPECT_FALSE(shape.cgroup_mounts);
}

TEST_F(Planner, AUserNamespaceJoinedByPathMakesInitForkIntoItsOwnPidNamespace) {
    config["linux"]["namespaces"].push_back({{"type", "user"}, {"path", "/proc/self/ns/user"}});
    LaunchPlan launch = plan(v2_layout());
    EXPECT_TRUE(launch.init.fork_after_joining);
    EXPECT_EQ(launch.clone_flags & CLONE_NEWPID, 0);
    EXPECT_NE(launch.init.unshare_flags & CLONE_NEWPID, 0);
    ASSERT_EQ(launch.init.joins.size(), 1u);
    EXPECT_EQ(launch.init.joins[0].type, CLONE_NEWUSER);
    EXPECT_TRUE(launch.init.joins[0].fd);
    EXPECT_TRUE(launch.init.in_user_ns);
    EXPECT_TRUE(exchange_shape(launch.init).pid_handover);
}

TEST_F(Planner, ANamespacePathOfAnotherKindIsRefusedNamingTheField) {
    size_t index = 0;
    while (config["linux"]["namespaces"][index]["type"] != "ipc") ++index;
    config["linux"]["namespaces"][index]["path"] = "/proc/self/ns/uts";
    EXPECT_TRUE(test::ThrowsError([&] { plan(v2_layout()); },
                                  ".linux.namespaces[" + std::to_string(index) + "].path: /proc/self/ns/uts is not a ipc namespace"));
}

TEST_F(Planner, SeccompWithoutNoNewPrivilegesLoadsBeforeTheUserChangeAndKeepsTheFifo) {
    config["process"]["noNewPrivileges"] = false;
    config["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                  {"syscalls", {{{"names", {"mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
    LaunchPlan launch = plan(v2_layout(), true);
    EXPECT_EQ(launch.init.seccomp_load, SeccompLoad::before_user_change);
    // The filter would judge START and GOING too: `run` falls back to exec.fifo.
    EXPECT_FALSE(launch.init.start_over_socket);
    EXPECT_FALSE(exchange_shape(launch.init).start_over_socket);
}

TEST_F(Planner, SeccompWithNoNewPrivilegesLoadsAtExec) {
    config["process"]["noNewPrivileges"] = true;
    config["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                  {"syscalls", {{{"names", {"mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
    LaunchPlan launch = plan(v2_layout(), true);
    EXPECT_EQ(launch.init.seccomp_load, SeccompLoad::at_exec);
    EXPECT_TRUE(launch.init.start_over_socket);
    EXPECT_TRUE(exchange_shape(launch.init).start_over_socket);
    EXPECT_FALSE(exchange_shape(launch.init).seccomp_listener);
}

TEST_F(Planner, AContainerWithoutAProcessIsNeverStarted) {
    LaunchPlan launch = plan(v2_layout(), true, false);
    EXPECT_TRUE(launch.init.no_process);
    EXPECT_FALSE(exchange_shape(launch.init).start_over_socket);
}

TEST_F(Planner, HooksAndATerminalAreRowsOfTheExchange) {
    config["process"]["terminal"] = true;
    config["hooks"] = {{"createRuntime", {{{"path", "/bin/true"}}}}};
    sys::ExchangeShape shape = exchange_shape(plan(v2_layout()).init);
    EXPECT_TRUE(shape.runtime_hooks);
    EXPECT_TRUE(shape.console);
}

TEST_F(Planner, HomeComesFromTheContainersPasswdWhenEnvHasNone) {
    ::mkdir((dir / "rootfs/etc").c_str(), 0755);
    std::ofstream(dir / "rootfs/etc/passwd") << "root:x:0:0:root:/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n";
    config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
    LaunchPlan launch = plan(v2_layout());
    EXPECT_NE(std::find(launch.init.env.begin(), launch.init.env.end(), "HOME=/home/bob"), launch.init.env.end());
}

}  // namespace
}  // namespace crunlite::planning
