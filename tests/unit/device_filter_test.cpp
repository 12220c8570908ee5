// The cgroup v2 device filter: its shape, and (as root, on a real cgroup2 hierarchy) what the
// kernel lets a process in the cgroup open.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>
#include <linux/magic.h>

#include "cgroups/device_filter.hpp"

using namespace crunlite;

namespace {

spec::DeviceRule rule(bool allow, char type, std::optional<int64_t> major, std::optional<int64_t> minor, const char* access) {
    spec::DeviceRule r;
    r.allow = allow;
    r.type = type;
    r.major = major;
    r.minor = minor;
    r.access = access;
    return r;
}

std::string cgroup2_mount() {
    for (const char* path : {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"}) {
        struct statfs fs{};
        if (::statfs(path, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC) return path;
    }
    return "";
}

}  // namespace

TEST(DeviceFilterProgram, EveryJumpStaysInsideTheProgram) {
    std::vector<spec::DeviceRule> rules = {rule(false, 'a', {}, {}, "rwm"), rule(true, 'c', 1, 3, "rw"),
                                           rule(true, 'b', {}, 0, "m"), rule(false, 'c', 136, {}, "w")};
    auto program = cgroups::device_filter_program(rules);
    ASSERT_GE(program.size(), 8u);
    EXPECT_EQ(program.back().code, BPF_JMP | BPF_EXIT);
    for (size_t i = 0; i < program.size(); ++i)
        if (BPF_CLASS(program[i].code) == BPF_JMP && BPF_OP(program[i].code) == BPF_JNE) {
            EXPECT_GT(program[i].off, 0);
            EXPECT_LT(i + 1 + size_t(program[i].off), program.size());
        }
}

TEST(DeviceFilterProgram, StandardRulesFollowTheConfigs) {
    spec::Spec s;
    s.linux.resources = spec::Resources{};
    s.linux.resources->devices = {rule(false, 'a', {}, {}, "rwm")};
    s.linux.devices.push_back({"/dev/fuse", 'c', 10, 229, 0666, 0, 0});
    auto rules = cgroups::effective_device_rules(s);
    ASSERT_GE(rules.size(), 3u);
    EXPECT_FALSE(rules.front().allow);
    EXPECT_EQ(*rules.back().major, 10);
    EXPECT_EQ(*rules.back().minor, 229);
}

// Runs as root on this project's machines, which have a cgroup2 hierarchy (hybrid or v2).
TEST(DeviceFilterKernel, AProcessInTheCgroupOpensOnlyWhatTheRulesAllow) {
    std::string base = cgroup2_mount();
    ASSERT_FALSE(base.empty()) << "no cgroup2 hierarchy mounted";
    std::string dir = base + "/crun-lite-device-filter-test-" + std::to_string(getpid());
    ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
    struct RemoveAtEnd {
        std::string path;
        ~RemoveAtEnd() { ::rmdir(path.c_str()); }
    } cleanup{dir};
    // Deny everything, then allow reading and writing /dev/zero (1:5).
    cgroups::attach_device_filter(dir, cgroups::device_filter_program({rule(false, 'a', {}, {}, "rwm"), rule(true, 'c', 1, 5, "rw")}));
    pid_t child = fork();
    if (child == 0) {
        std::ofstream(dir + "/cgroup.procs") << getpid() << std::flush;
        int code = 0;
        int zero = ::open("/dev/zero", O_RDONLY);
        if (zero < 0) code |= 1;
        int null = ::open("/dev/null", O_RDONLY);
        if (null >= 0 || errno != EPERM) code |= 2;
        _exit(code);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status) & 1, 0) << "/dev/zero was denied although a rule allows it";
    EXPECT_EQ(WEXITSTATUS(status) & 2, 0) << "/dev/null was opened although the rules deny it";
}
