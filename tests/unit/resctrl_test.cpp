// linux.intelRdt against a directory that mimics a resctrl filesystem (this machine has no RDT
// hardware): the root has info/, schemata, tasks and mon_groups/; a mkdir in it makes the
// group's schemata and tasks files (and mon_groups/ for a control group), as the kernel does,
// and an rmdir takes the group with its files.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "crunlite/error.hpp"
#include "resctrl/resctrl.hpp"
#include "test_util.hpp"

namespace crunlite {
namespace {

namespace fs = std::filesystem;

std::string read(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// A resctrl root with monitoring: L3 and MB resources, the default CLOS's schemata.
struct FakeResctrl {
    test::TempDir dir;
    std::string root = dir / "resctrl";
    std::vector<std::string> made, removed;

    FakeResctrl(bool monitoring = true) {
        fs::create_directories(root + "/info/L3");
        write(root + "/info/last_cmd_status", "ok\n");
        write(root + "/schemata", "L3:0=fff;1=fff\nMB:0=100;1=100\n");
        write(root + "/tasks", "");
        if (monitoring) fs::create_directory(root + "/mon_groups");
    }
    // A group that exists already (made by an administrator).
    void existing(const std::string& name, const std::string& schemata) {
        fs::create_directories(root + "/" + name + "/mon_groups");
        write(root + "/" + name + "/schemata", schemata);
        write(root + "/" + name + "/tasks", "");
    }
    resctrl::DirOps ops() {
        resctrl::DirOps o;
        o.make = [this](const std::string& path) {
            if (::mkdir(path.c_str(), 0755) != 0) return -1;
            made.push_back(path);
            write(path + "/tasks", "");
            if (fs::path(path).parent_path().filename() != "mon_groups") {
                write(path + "/schemata", "");
                fs::create_directory(path + "/mon_groups");
            }
            return 0;
        };
        o.remove = [this](const std::string& path) {
            if (!fs::exists(path)) {
                errno = ENOENT;
                return -1;
            }
            fs::remove_all(path);
            removed.push_back(path);
            return 0;
        };
        return o;
    }
};

spec::IntelRdt rdt(const std::string& clos, const std::string& l3 = "", const std::string& mb = "", std::vector<std::string> lines = {},
                   bool monitoring = false) {
    spec::IntelRdt r;
    r.clos_id = clos;
    r.l3_cache_schema = l3;
    r.mem_bw_schema = mb;
    r.schemata = std::move(lines);
    r.enable_monitoring = monitoring;
    return r;
}

template <typename Fn>
std::string json_path_of(Fn&& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.json_path();
    }
    return "(no error)";
}

TEST(Resctrl, RootIsTheResctrlMountOfMountinfo) {
    std::string mountinfo =
        "22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw\n"
        "40 22 0:35 / /sys/fs/resctrl rw,relatime shared:20 - resctrl resctrl rw,mba_MBps\n";
    EXPECT_EQ(resctrl::find_root(mountinfo), "/sys/fs/resctrl");
    EXPECT_EQ(resctrl::find_root("40 22 0:35 / /mnt/rdt\\040x rw - resctrl resctrl rw\n"), "/mnt/rdt x");
    EXPECT_EQ(resctrl::find_root("22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw\n"), "");
}

TEST(Resctrl, NoResctrlMountIsAnErrorNamingIntelRdt) {
    EXPECT_EQ(json_path_of([] { resctrl::plan_group(rdt(""), "ctr", ""); }), ".linux.intelRdt");
}

TEST(Resctrl, SchemataTextCombinesTheFields) {
    // config-linux.md: with memBwSchema set, an MB: line of l3CacheSchema gives way to it.
    EXPECT_EQ(resctrl::schemata_text(rdt("", "L3:0=7f0;1=1f\nMB:0=90", "MB:0=20;1=70", {"L2:0=3"})),
              "L3:0=7f0;1=1f\nMB:0=20;1=70\nL2:0=3\n");
    EXPECT_EQ(resctrl::schemata_text(rdt("", "L3:0=7f0\nMB:0=90")), "L3:0=7f0\nMB:0=90\n");
    EXPECT_EQ(resctrl::schemata_text(rdt("x")), "");
}

TEST(Resctrl, SchemataMatchComparesMasksAsNumbers) {
    std::string file = "    L3:0=07f0;1=001f\n    MB:0= 20;1= 70\n";
    EXPECT_TRUE(resctrl::schemata_match(file, "L3:0=7f0;1=1f\n"));
    EXPECT_TRUE(resctrl::schemata_match(file, "MB:0=20;1=70\nL3:1=1f;0=7f0\n"));
    EXPECT_FALSE(resctrl::schemata_match(file, "L3:0=7f0;1=3f\n"));
    EXPECT_FALSE(resctrl::schemata_match(file, "L3:0=7f0\n"));  // a domain missing
    EXPECT_FALSE(resctrl::schemata_match(file, "L2:0=3\n"));    // a resource the group lacks
}

TEST(Resctrl, GroupNamedAfterTheContainerIsMadeWrittenJoinedAndRemoved) {
    FakeResctrl r;
    auto plan = resctrl::plan_group(rdt("", "L3:0=7f0;1=1f", "MB:0=20;1=70"), "ctr", r.root);
    EXPECT_EQ(plan.group_dir, r.root + "/ctr");
    EXPECT_TRUE(plan.make_group);
    resctrl::Placement at;
    {
        resctrl::Group group(plan, 4242, r.ops());
        at = group.placement();
        group.keep();
    }
    EXPECT_TRUE(at.made_group);
    EXPECT_EQ(read(r.root + "/ctr/schemata"), "L3:0=7f0;1=1f\nMB:0=20;1=70\n");
    EXPECT_EQ(read(r.root + "/ctr/tasks"), "4242");
    resctrl::join(at, 4343);  // an exec: the kernel keeps a list; the fake keeps the last write
    EXPECT_EQ(read(r.root + "/ctr/tasks"), "4343");
    resctrl::remove(at, r.ops());
    EXPECT_FALSE(fs::exists(r.root + "/ctr"));
    EXPECT_EQ(read(r.root + "/schemata"), "L3:0=fff;1=fff\nMB:0=100;1=100\n");  // the default CLOS untouched
}

TEST(Resctrl, ClosIdAloneJoinsAnExistingGroupAndLeavesIt) {
    FakeResctrl r;
    r.existing("shared", "L3:0=f0\n");
    auto plan = resctrl::plan_group(rdt("shared"), "ctr", r.root);
    EXPECT_FALSE(plan.make_group);
    resctrl::Group group(plan, 77, r.ops());
    EXPECT_FALSE(group.placement().made_group);
    EXPECT_EQ(read(r.root + "/shared/tasks"), "77");
    EXPECT_EQ(read(r.root + "/shared/schemata"), "L3:0=f0\n");
    resctrl::remove(group.placement(), r.ops());
    EXPECT_TRUE(fs::exists(r.root + "/shared"));
    EXPECT_TRUE(r.made.empty() && r.removed.empty());
}

TEST(Resctrl, MissingClosIdWithoutSchemataIsAnError) {
    FakeResctrl r;
    EXPECT_EQ(json_path_of([&] { resctrl::plan_group(rdt("nosuch"), "ctr", r.root); }), ".linux.intelRdt.closID");
    // With schemata the group is made under that name.
    auto plan = resctrl::plan_group(rdt("gold", "", "", {"L3:0=ff"}), "ctr", r.root);
    EXPECT_EQ(plan.group_dir, r.root + "/gold");
    EXPECT_TRUE(plan.make_group);
}

TEST(Resctrl, ExistingGroupIsComparedNeverRewritten) {
    FakeResctrl r;
    r.existing("gold", "L3:0=00ff;1=ff\nMB:0=50;1=50\n");
    EXPECT_NO_THROW(resctrl::plan_group(rdt("gold", "L3:0=ff;1=ff"), "ctr", r.root));
    EXPECT_EQ(json_path_of([&] { resctrl::plan_group(rdt("gold", "L3:0=f;1=ff"), "ctr", r.root); }), ".linux.intelRdt");
    EXPECT_EQ(json_path_of([&] { resctrl::plan_group(rdt("gold", "", "", {"MB:0=20;1=50"}), "ctr", r.root); }), ".linux.intelRdt");
    // The default CLOS too: a config cannot rewrite the host's root schemata.
    EXPECT_EQ(json_path_of([&] { resctrl::plan_group(rdt("/", "L3:0=1;1=1"), "ctr", r.root); }), ".linux.intelRdt");
}

TEST(Resctrl, DefaultClosIsTheRoot) {
    FakeResctrl r;
    auto plan = resctrl::plan_group(rdt("/"), "ctr", r.root);
    EXPECT_EQ(plan.group_dir, r.root);
    EXPECT_FALSE(plan.make_group);
    resctrl::Group group(plan, 9, r.ops());
    EXPECT_EQ(read(r.root + "/tasks"), "9");
    EXPECT_TRUE(r.made.empty());
}

TEST(Resctrl, MonitoringGroupUnderTheClos) {
    FakeResctrl r;
    r.existing("shared", "L3:0=f0\n");
    auto plan = resctrl::plan_group(rdt("shared", "", "", {}, true), "ctr", r.root);
    EXPECT_EQ(plan.mon_dir, r.root + "/shared/mon_groups/ctr");
    resctrl::Placement at;
    {
        resctrl::Group group(plan, 55, r.ops());
        at = group.placement();
        group.keep();
    }
    EXPECT_FALSE(at.made_group);
    EXPECT_TRUE(at.made_mon);
    // The control group first (a monitoring group takes only its parent's tasks), then it.
    EXPECT_EQ(read(r.root + "/shared/tasks"), "55");
    EXPECT_EQ(read(r.root + "/shared/mon_groups/ctr/tasks"), "55");
    resctrl::remove(at, r.ops());
    EXPECT_FALSE(fs::exists(r.root + "/shared/mon_groups/ctr"));
    EXPECT_TRUE(fs::exists(r.root + "/shared"));
    // In the default CLOS, and in a group made for the container.
    EXPECT_EQ(resctrl::plan_group(rdt("/", "", "", {}, true), "ctr", r.root).mon_dir, r.root + "/mon_groups/ctr");
    auto made = resctrl::plan_group(rdt("", "L3:0=1", "", {}, true), "c2", r.root);
    resctrl::Group group(made, 56, r.ops());
    EXPECT_TRUE(group.placement().made_group && group.placement().made_mon);
    EXPECT_EQ(read(r.root + "/c2/mon_groups/c2/tasks"), "56");
}

TEST(Resctrl, MonitoringWithoutSupportIsAnError) {
    FakeResctrl r(false);
    EXPECT_EQ(json_path_of([&] { resctrl::plan_group(rdt("/", "", "", {}, true), "ctr", r.root); }), ".linux.intelRdt.enableMonitoring");
}

TEST(Resctrl, FailureLeavesNothingBehind) {
    FakeResctrl r;
    auto plan = resctrl::plan_group(rdt("", "L3:0=7f0", "", {}, true), "ctr", r.root);
    resctrl::DirOps ops = r.ops();
    auto make = ops.make;
    // The monitoring group's tasks cannot be written (a directory in the fake).
    ops.make = [&, make](const std::string& path) {
        int rc = make(path);
        if (rc == 0 && path.find("/mon_groups/") != std::string::npos) {
            fs::remove(path + "/tasks");
            fs::create_directory(path + "/tasks");
        }
        return rc;
    };
    EXPECT_EQ(json_path_of([&] { resctrl::Group group(plan, 1, ops); }), ".linux.intelRdt");
    EXPECT_FALSE(fs::exists(r.root + "/ctr"));
    EXPECT_EQ(r.removed.size(), 2u);
    // A group not kept is removed when it goes.
    { resctrl::Group group(resctrl::plan_group(rdt("", "L3:0=7f0"), "c3", r.root), 2, r.ops()); }
    EXPECT_FALSE(fs::exists(r.root + "/c3"));
}

}  // namespace
}  // namespace crunlite
