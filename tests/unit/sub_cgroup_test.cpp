// exec --cgroup: which directory of each hierarchy the process enters (cgroups::sub_cgroup_dirs),
// on a layout of temporary directories standing for the hierarchies' mount points.
#include <gtest/gtest.h>

#include <filesystem>

#include "crunlite/cgroups.hpp"
#include "test_util.hpp"

namespace crunlite {
namespace {

namespace fs = std::filesystem;

struct Hosts {
    test::TempDir dir;
    cgroups::Layout hybrid, v2;
    std::vector<std::string> hybrid_dirs, v2_dirs;

    Hosts() {
        hybrid.mode = cgroups::Mode::hybrid;
        for (auto [name, controllers] : {std::pair{"cpu,cpuacct", "cpu,cpuacct"}, {"memory", "memory"}, {"systemd", "name=systemd"}}) {
            hybrid.hierarchies.push_back({dir / name, controllers, false});
            hybrid_dirs.push_back(dir / name + "/ctr");
        }
        hybrid.hierarchies.push_back({dir / "unified", "", true});
        hybrid_dirs.push_back(dir / "unified" + "/ctr");
        v2.hierarchies.push_back({dir / "v2", "", true});
        v2_dirs.push_back(dir / "v2" + "/ctr");
        for (auto* dirs : {&hybrid_dirs, &v2_dirs})
            for (auto& d : *dirs) fs::create_directories(d + "/sub/deeper");
    }
};

TEST(SubCgroup, PathAloneMovesEveryHierarchy) {
    Hosts h;
    auto out = cgroups::sub_cgroup_dirs(h.hybrid, h.hybrid_dirs, {"sub"});
    ASSERT_EQ(out.size(), h.hybrid_dirs.size());
    for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], h.hybrid_dirs[i] + "/sub");
    EXPECT_EQ(cgroups::sub_cgroup_dirs(h.v2, h.v2_dirs, {"/sub/./deeper/"}), std::vector<std::string>{h.v2_dirs[0] + "/sub/deeper"});
    EXPECT_EQ(cgroups::sub_cgroup_dirs(h.v2, h.v2_dirs, {"/"}), h.v2_dirs);  // the container's own cgroup
}

TEST(SubCgroup, ControllerFormMovesOnlyThoseHierarchies) {
    Hosts h;
    auto out = cgroups::sub_cgroup_dirs(h.hybrid, h.hybrid_dirs, {"cpuacct:sub", "memory,name=systemd:sub/deeper"});
    EXPECT_EQ(out[0], h.hybrid_dirs[0] + "/sub");
    EXPECT_EQ(out[1], h.hybrid_dirs[1] + "/sub/deeper");
    EXPECT_EQ(out[2], h.hybrid_dirs[2] + "/sub/deeper");
    EXPECT_EQ(out[3], h.hybrid_dirs[3]);  // the unified hierarchy has no controller names
}

TEST(SubCgroup, RefusalsNameTheArgument) {
    Hosts h;
    EXPECT_TRUE(test::ThrowsError([&] { cgroups::sub_cgroup_dirs(h.hybrid, h.hybrid_dirs, {"missing"}); }, "--cgroup missing: no such sub-cgroup"));
    EXPECT_TRUE(test::ThrowsError([&] { cgroups::sub_cgroup_dirs(h.v2, h.v2_dirs, {"../other"}); }, "--cgroup ../other: must not contain \"..\""));
    EXPECT_TRUE(test::ThrowsError([&] { cgroups::sub_cgroup_dirs(h.v2, h.v2_dirs, {"cpu:sub"}); }, "no cgroup v1 hierarchy of controller \"cpu\""));
    EXPECT_TRUE(test::ThrowsError([&] { cgroups::sub_cgroup_dirs(h.hybrid, h.hybrid_dirs, {"bogus:sub"}); }, "\"bogus\""));
    EXPECT_TRUE(test::ThrowsError([&] { cgroups::sub_cgroup_dirs(h.hybrid, h.hybrid_dirs, {"sub", "memory:sub"}); }, "must be the only --cgroup"));
    EXPECT_TRUE(test::ThrowsError([&] { cgroups::sub_cgroup_dirs(h.hybrid, h.hybrid_dirs, {"cpu:sub", "cpuacct:sub/deeper"}); }, "shares its hierarchy"));
    EXPECT_TRUE(test::ThrowsError([&] { cgroups::sub_cgroup_dirs(h.hybrid, {}, {"sub"}); }, "no cgroups of its own"));
}

}  // namespace
}  // namespace crunlite
