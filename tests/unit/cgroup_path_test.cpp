// Cgroup placement logic that needs no cgroup filesystem: where a container's cgroup goes
// (resolve_cgroup_path), the v1 device-controller lines for its config (device_cgroup_lines),
// and which mountinfo lines are hierarchies (layout_from_mountinfo, against a temporary directory
// and the host's own hierarchies).
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <algorithm>
#include <climits>
#include <string>
#include <vector>

#include "crunlite/cgroups.hpp"
#include "crunlite/error.hpp"
#include "crunlite/spec.hpp"
#include "test_util.hpp"
#include "util/text.hpp"

namespace crunlite::cgroups {
namespace {

using nlohmann::json;
using test::ThrowsSpecError;

// ---------------------------------------------------------------------------------------------
// resolve_cgroup_path

TEST(ResolveCgroupPath, EmptyMeansCrunLiteDashIdAtTheRoot) {
    EXPECT_EQ(resolve_cgroup_path("", "c1", "/user.slice/session-1.scope"), "/crun-lite-c1");
    EXPECT_EQ(resolve_cgroup_path("", "my.ctr-2", "/"), "/crun-lite-my.ctr-2");
    EXPECT_EQ(resolve_cgroup_path("", "system.slice", "/"), "/crun-lite-system.slice");
    EXPECT_EQ(resolve_cgroup_path("", "tasks", "/"), "/crun-lite-tasks");
}

TEST(ResolveCgroupPath, EmptyWithAnIdTooLongForThePrefixGoesBelowACrunLiteParent) {
    std::string longest_prefixed(NAME_MAX - 10, 'a'), too_long(NAME_MAX - 9, 'b'), longest(NAME_MAX, 'c');
    EXPECT_EQ(resolve_cgroup_path("", longest_prefixed, "/"), "/crun-lite-" + longest_prefixed);
    EXPECT_EQ(resolve_cgroup_path("", too_long, "/"), "/crun-lite/" + too_long);
    EXPECT_EQ(resolve_cgroup_path("", longest, "/"), "/crun-lite/" + longest);
}

TEST(ResolveCgroupPath, AbsoluteIsKeptWhateverTheOwnCgroup) {
    EXPECT_EQ(resolve_cgroup_path("/machine/c1", "c1", "/user.slice"), "/machine/c1");
    EXPECT_EQ(resolve_cgroup_path("/docker/abc", "abc", "/"), "/docker/abc");
}

TEST(ResolveCgroupPath, AbsoluteIsNormalised) {
    EXPECT_EQ(resolve_cgroup_path("//machine//c1/", "c1", "/"), "/machine/c1");
    EXPECT_EQ(resolve_cgroup_path("/machine/./c1", "c1", "/"), "/machine/c1");
}

TEST(ResolveCgroupPath, RelativeIsJoinedToTheOwnCgroup) {
    EXPECT_EQ(resolve_cgroup_path("foo/bar", "c1", "/user.slice/session-1.scope"), "/user.slice/session-1.scope/foo/bar");
    EXPECT_EQ(resolve_cgroup_path("c1", "c1", "/system.slice/containerd.service"), "/system.slice/containerd.service/c1");
}

TEST(ResolveCgroupPath, RelativeUnderTheRootCgroup) {
    EXPECT_EQ(resolve_cgroup_path("foo", "c1", "/"), "/foo");
    EXPECT_EQ(resolve_cgroup_path("./foo/", "c1", "/"), "/foo");
}

TEST(ResolveCgroupPath, DotDotIsRefused) {
    EXPECT_TRUE(ThrowsSpecError([] { resolve_cgroup_path("/a/../b", "c1", "/"); }, ".linux.cgroupsPath", "\"..\""));
    EXPECT_TRUE(ThrowsSpecError([] { resolve_cgroup_path("../escape", "c1", "/user.slice"); }, ".linux.cgroupsPath", "\"..\""));
    EXPECT_TRUE(ThrowsSpecError([] { resolve_cgroup_path("/..", "c1", "/"); }, ".linux.cgroupsPath"));
}

TEST(ResolveCgroupPath, NamesContainingDotsAreNotDotDot) {
    EXPECT_EQ(resolve_cgroup_path("/a/..b/c..", "c1", "/"), "/a/..b/c..");
    EXPECT_EQ(resolve_cgroup_path("/a/.../b", "c1", "/"), "/a/.../b");
}

TEST(ResolveCgroupPath, TheRootCgroupIsRefused) {
    EXPECT_TRUE(ThrowsSpecError([] { resolve_cgroup_path("/", "c1", "/"); }, ".linux.cgroupsPath", "root cgroup"));
    EXPECT_TRUE(ThrowsSpecError([] { resolve_cgroup_path("/./", "c1", "/"); }, ".linux.cgroupsPath", "root cgroup"));
    EXPECT_TRUE(ThrowsSpecError([] { resolve_cgroup_path(".", "c1", "/"); }, ".linux.cgroupsPath", "root cgroup"));
}

// ---------------------------------------------------------------------------------------------
// device_cgroup_lines

// runc's specconv.AllowedDevices, in order: mknod of any char/block device, /dev/null, random,
// full, tty, zero, urandom, the pts range, ptmx and /dev/net/tun.
const std::vector<std::string> kRuncStandard = {"c *:* m",   "b *:* m",   "c 1:3 rwm",   "c 1:8 rwm",
                                                "c 1:7 rwm", "c 5:0 rwm", "c 1:5 rwm",   "c 1:9 rwm",
                                                "c 136:* rwm", "c 5:2 rwm", "c 10:200 rwm"};

std::vector<std::string> texts(const std::vector<DeviceLine>& lines) {
    std::vector<std::string> out;
    for (auto& l : lines) out.push_back(l.text);
    return out;
}

spec::Spec with_rules(const json& rules, const json& devices = json::array()) {
    json config = spec::default_spec(false);
    config["linux"]["resources"]["devices"] = rules;
    config["linux"]["devices"] = devices;
    return spec::parse_spec(config);
}

TEST(DeviceCgroupLines, DefaultSpecDeniesAllFirst) {
    auto lines = device_cgroup_lines(spec::parse_spec(spec::default_spec(false)));
    ASSERT_FALSE(lines.empty());
    EXPECT_FALSE(lines[0].allow);
    EXPECT_EQ(lines[0].text, "a");
    for (size_t i = 1; i < lines.size(); ++i) EXPECT_TRUE(lines[i].allow) << lines[i].text;
}

TEST(DeviceCgroupLines, StandardDevicesAreAllowedWithoutResources) {
    auto lines = device_cgroup_lines(spec::parse_spec(spec::default_spec(true)));
    ASSERT_FALSE(lines.empty());
    for (auto& l : lines) EXPECT_TRUE(l.allow) << l.text;
    std::vector<std::string> t = texts(lines);
    for (const char* needed : {"c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
                               "c 5:0 rwm", "c 5:2 rwm", "c 136:* rwm"})
        EXPECT_NE(std::find(t.begin(), t.end(), needed), t.end()) << needed;
}

// The comment in container_cgroup.cpp says "as runc allows them"; runc's list has no
// /dev/console (c 5:1) and does have /dev/net/tun (c 10:200), kept for compatibility.
TEST(DeviceCgroupLines, StandardDevicesAreRuncs) {
    // The same set as runc's; the order among allow rules carries no meaning.
    auto actual = texts(device_cgroup_lines(spec::parse_spec(spec::default_spec(true))));
    auto expected = kRuncStandard;
    std::sort(actual.begin(), actual.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(actual, expected);
}

TEST(DeviceCgroupLines, RulesComeFirstInConfigOrder) {
    auto lines = device_cgroup_lines(with_rules(json::parse(R"([
        {"allow": false, "access": "rwm"},
        {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"},
        {"allow": false, "type": "b", "major": 8, "minor": 0, "access": "m"}
    ])")));
    ASSERT_GE(lines.size(), 3u);
    EXPECT_FALSE(lines[0].allow);
    EXPECT_EQ(lines[0].text, "a");
    EXPECT_TRUE(lines[1].allow);
    EXPECT_EQ(lines[1].text, "c 10:229 rw");
    EXPECT_FALSE(lines[2].allow);
    EXPECT_EQ(lines[2].text, "b 8:0 m");
}

TEST(DeviceCgroupLines, MissingNumbersAreWildcards) {
    auto lines = device_cgroup_lines(with_rules(json::parse(R"([
        {"allow": true, "type": "c", "access": "m"},
        {"allow": true, "type": "c", "major": 136, "access": "rwm"},
        {"allow": true, "type": "b", "minor": 3, "access": "r"},
        {"allow": true, "type": "c", "major": -1, "minor": -1, "access": "rwm"}
    ])")));
    ASSERT_GE(lines.size(), 4u);
    EXPECT_EQ(lines[0].text, "c *:* m");
    EXPECT_EQ(lines[1].text, "c 136:* rwm");
    EXPECT_EQ(lines[2].text, "b *:3 r");
    EXPECT_EQ(lines[3].text, "c *:* rwm");  // runc's -1 wildcard
}

TEST(DeviceCgroupLines, TypeAIsAllDevices) {
    auto lines = device_cgroup_lines(with_rules(json::parse(R"([{"allow": true, "type": "a", "access": "rwm"}])")));
    ASSERT_FALSE(lines.empty());
    EXPECT_TRUE(lines[0].allow);
    EXPECT_EQ(lines[0].text, "a");
}

TEST(DeviceCgroupLines, ConfigDevicesAreAllowedAfterTheStandardOnes) {
    json devices = json::parse(R"([
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229},
        {"path": "/dev/sda", "type": "b", "major": 8, "minor": 0},
        {"path": "/dev/ttyX", "type": "u", "major": 4, "minor": 64},
        {"path": "/dev/pipe", "type": "p"}
    ])");
    auto lines = device_cgroup_lines(with_rules(json::parse(R"([{"allow": false, "access": "rwm"}])"), devices));
    std::vector<std::string> t = texts(lines);
    ASSERT_GE(t.size(), 4u);
    // The last three lines are the config's devices; the fifo has no cgroup line.
    std::vector<std::string> tail(t.end() - 3, t.end());
    EXPECT_EQ(tail, (std::vector<std::string>{"c 10:229 rwm", "b 8:0 rwm", "c 4:64 rwm"}));
    EXPECT_TRUE(lines.back().allow);
    size_t standard = device_cgroup_lines(spec::parse_spec(spec::default_spec(true))).size();
    EXPECT_EQ(lines.size(), 1 + standard + 3);  // deny-all, the standard lines, three devices
    for (auto& s : t) EXPECT_NE(s[0], 'p') << s;
}

TEST(DeviceCgroupLines, NoResourcesAndNoDevicesGivesOnlyTheStandardLines) {
    json config = spec::default_spec(false);
    config["linux"].erase("resources");
    auto lines = device_cgroup_lines(spec::parse_spec(config));
    auto rootless = device_cgroup_lines(spec::parse_spec(spec::default_spec(true)));
    EXPECT_EQ(texts(lines), texts(rootless));
}


// ---------------------------------------------------------------------------------------------
// layout_from_mountinfo: a mountinfo line is a hierarchy only when its path is that cgroup
// filesystem now (statfs).

std::string mountinfo_line(int id, const std::string& mount_point, const std::string& fstype, const std::string& super) {
    return std::to_string(id) + " 1 0:" + std::to_string(id) + " / " + mount_point + " rw,nosuid,nodev,noexec,relatime shared:" +
           std::to_string(id) + " - " + fstype + " " + fstype + " " + super + "\n";
}

TEST(LayoutFromMountinfo, ADirectoryThatIsNoCgroupFilesystemIsNoHierarchy) {
    test::TempDir root;
    ASSERT_EQ(::mkdir((root / "unified").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((root / "cpu").c_str(), 0755), 0);
    std::string mountinfo = mountinfo_line(30, root.path(), "tmpfs", "rw,mode=755") +
                            mountinfo_line(31, root / "unified", "cgroup2", "rw,nsdelegate") +
                            mountinfo_line(32, root / "cpu", "cgroup", "rw,cpu");
    // The lines say cgroup, but the paths are directories of this test's filesystem.
    EXPECT_TRUE(test::ThrowsError([&] { layout_from_mountinfo(mountinfo, root.path()); }, "no cgroup filesystem is mounted under"));
}

TEST(LayoutFromMountinfo, OnlyPathsUnderTheRootCount) {
    test::TempDir root;
    std::string mountinfo = mountinfo_line(31, root.path() + "x/unified", "cgroup2", "rw");
    EXPECT_TRUE(test::ThrowsError([&] { layout_from_mountinfo(mountinfo, root.path()); }, "no cgroup filesystem"));
}

// The host's own hierarchies: each one detect_layout finds is a cgroup filesystem, and a mount
// over one (a later mountinfo line on its path) hides it.
TEST(LayoutFromMountinfo, TheHostsHierarchiesAndOneHiddenByAMountOverIt) {
    std::string mountinfo;
    ASSERT_TRUE(text::read_file("/proc/self/mountinfo", mountinfo, size_t(64) << 20));
    Layout layout;
    try {
        layout = layout_from_mountinfo(mountinfo);
    } catch (const Error& e) {
        GTEST_SKIP() << "no cgroup filesystem here: " << e.what();
    }
    ASSERT_FALSE(layout.hierarchies.empty());
    for (const Hierarchy& h : layout.hierarchies) {
        struct statfs fs{};
        ASSERT_EQ(::statfs(h.mount_point.c_str(), &fs), 0) << h.mount_point;
        EXPECT_EQ(fs.f_type, h.unified ? CGROUP2_SUPER_MAGIC : CGROUP_SUPER_MAGIC) << h.mount_point;
    }
    const Hierarchy hidden = layout.hierarchies.back();
    Layout without = [&] {
        try {
            return layout_from_mountinfo(mountinfo + mountinfo_line(9999, hidden.mount_point, "tmpfs", "rw"));
        } catch (const Error&) {
            return Layout{};  // it was the only one
        }
    }();
    EXPECT_EQ(without.hierarchies.size() + 1, layout.hierarchies.size());
    for (const Hierarchy& h : without.hierarchies) EXPECT_NE(h.mount_point, hidden.mount_point);
}

}  // namespace
}  // namespace crunlite::cgroups
