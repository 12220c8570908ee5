// linux.resources -> cgroup files, for v1 and v2.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cgroups/resource_writes.hpp"
#include "crunlite/cgroups.hpp"
#include "crunlite/error.hpp"
#include "test_util.hpp"

using namespace crunlite;
using nlohmann::json;

namespace {

std::vector<cgroups::ControllerWrites> writes_for(const json& resources) {
    return cgroups::resource_writes(spec::parse_resources(resources, ".linux.resources"));
}

const cgroups::ControllerWrites* find(const std::vector<cgroups::ControllerWrites>& all, const std::string& controller) {
    for (auto& w : all)
        if (w.controller == controller) return &w;
    return nullptr;
}

std::string value_of(const std::vector<cgroups::FileWrite>& writes, const std::string& file) {
    for (auto& w : writes)
        if (w.file == file) return w.value;
    return "<absent>";
}

}  // namespace

TEST(ResourceWrites, ZerosFromDockerMeanUnset) {
    auto all = writes_for(json::parse(R"({"memory":{"limit":0,"reservation":0,"swap":0,"kernel":0},
        "cpu":{"shares":0,"quota":0,"period":0},"blockIO":{"weight":0},"pids":{}})"));
    EXPECT_TRUE(all.empty());
}

TEST(ResourceWrites, PidsLimitZeroIsWrittenNegativeIsMax) {
    // runtime-spec 1.3 and runc >= 1.4: 0 is a limit (nothing can fork in), -1 (any negative) is "max".
    const std::pair<const char*, const char*> cases[] = {{"0", "0"}, {"1", "1"}, {"-1", "max"}, {"-5", "max"}, {"4194304", "4194304"}};
    for (auto [limit, file] : cases) {
        auto all = writes_for(json::parse(std::string(R"({"pids":{"limit":)") + limit + "}}"));
        auto* pids = find(all, "pids");
        ASSERT_NE(pids, nullptr) << limit;
        EXPECT_EQ(value_of(pids->v1, "pids.max"), file) << limit;
        EXPECT_EQ(value_of(pids->v2, "pids.max"), file) << limit;
    }
}

TEST(ResourceWrites, MemoryV1AndV2) {
    auto all = writes_for(json::parse(R"({"memory":{"limit":67108864,"reservation":33554432,"swap":134217728}})"));
    auto* m = find(all, "memory");
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(value_of(m->v1, "memory.limit_in_bytes"), "67108864");
    EXPECT_EQ(value_of(m->v1, "memory.soft_limit_in_bytes"), "33554432");
    EXPECT_EQ(value_of(m->v1, "memory.memsw.limit_in_bytes"), "134217728");
    EXPECT_EQ(value_of(m->v2, "memory.max"), "67108864");
    EXPECT_EQ(value_of(m->v2, "memory.low"), "33554432");
    EXPECT_EQ(value_of(m->v2, "memory.swap.max"), "67108864");  // swap alone: 128M - 64M
}

TEST(ResourceWrites, UnlimitedMemory) {
    auto all = writes_for(json::parse(R"({"memory":{"limit":-1,"swap":-1}})"));
    auto* m = find(all, "memory");
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(value_of(m->v1, "memory.limit_in_bytes"), "-1");
    EXPECT_EQ(value_of(m->v2, "memory.max"), "max");
    EXPECT_EQ(value_of(m->v2, "memory.swap.max"), "max");
}

TEST(ResourceWrites, SwapBelowLimitCannotBeExpressedOnV2) {
    auto all = writes_for(json::parse(R"({"memory":{"limit":134217728,"swap":67108864}})"));
    auto* m = find(all, "memory");
    ASSERT_NE(m, nullptr);
    bool found = false;
    for (auto& w : m->v2)
        if (w.json_path == ".linux.resources.memory.swap") found = !w.unsupported.empty();
    EXPECT_TRUE(found);
}

TEST(ResourceWrites, CpuSharesToWeightMatchesRuncs) {
    // Expected values from runc's ConvertCPUSharesToCgroupV2Value (opencontainers/cgroups, runc
    // >= 1.3.2): ceil(10^((l*l + 125*l)/612 - 7/34)), l = log2(shares), clamped to [1, 10000].
    const std::pair<uint64_t, uint64_t> cases[] = {
        {0, 1},         {1, 1},         {2, 1},       {3, 2},       {10, 4},         {100, 17},
        {512, 59},      {1023, 100},    {1024, 100},  {1025, 101},  {2000, 170},     {2048, 174},
        {4096, 303},    {10000, 627},   {100000, 4340}, {262143, 10000}, {262144, 10000}, {1000000, 10000},
    };
    for (auto [shares, weight] : cases) EXPECT_EQ(cgroups::cpu_shares_to_weight(shares), weight) << shares;
    // Every valid input lands in cpu.weight's range, and more shares never mean less weight.
    uint64_t previous = 1;
    for (uint64_t shares = 2; shares <= 262144; ++shares) {
        uint64_t weight = cgroups::cpu_shares_to_weight(shares);
        ASSERT_GE(weight, previous) << shares;
        ASSERT_LE(weight, 10000u) << shares;
        previous = weight;
    }
}

TEST(ResourceWrites, CpuSharesConvertToWeight) {
    auto all = writes_for(json::parse(R"({"cpu":{"shares":1024,"quota":50000,"period":100000,"cpus":"0-1","mems":"0"}})"));
    auto* cpu = find(all, "cpu");
    ASSERT_NE(cpu, nullptr);
    EXPECT_EQ(value_of(cpu->v1, "cpu.shares"), "1024");
    EXPECT_EQ(value_of(cpu->v1, "cpu.cfs_quota_us"), "50000");
    EXPECT_EQ(value_of(cpu->v1, "cpu.cfs_period_us"), "100000");
    EXPECT_EQ(value_of(cpu->v2, "cpu.weight"), "100");
    EXPECT_EQ(value_of(cpu->v2, "cpu.max"), "50000 100000");
    auto* cpuset = find(all, "cpuset");
    ASSERT_NE(cpuset, nullptr);
    EXPECT_EQ(value_of(cpuset->v1, "cpuset.cpus"), "0-1");
    EXPECT_EQ(value_of(cpuset->v2, "cpuset.mems"), "0");
}

TEST(ResourceWrites, PeriodAloneMeansNoQuotaOnV2) {
    auto all = writes_for(json::parse(R"({"cpu":{"period":50000}})"));
    auto* cpu = find(all, "cpu");
    ASSERT_NE(cpu, nullptr);
    EXPECT_EQ(value_of(cpu->v2, "cpu.max"), "max 50000");
}

TEST(ResourceWrites, BlockIoWeightAndThrottles) {
    EXPECT_EQ(cgroups::blkio_weight_to_io_weight(10), 1u);
    EXPECT_EQ(cgroups::blkio_weight_to_io_weight(1000), 10000u);
    auto all = writes_for(json::parse(R"({"blockIO":{"weight":500,
        "throttleReadBpsDevice":[{"major":8,"minor":0,"rate":1048576}],
        "throttleWriteIOPSDevice":[{"major":8,"minor":0,"rate":100}]}})"));
    auto* io = find(all, "blkio");
    ASSERT_NE(io, nullptr);
    EXPECT_EQ(value_of(io->v1, "blkio.weight"), "500");
    EXPECT_EQ(value_of(io->v1, "blkio.throttle.read_bps_device"), "8:0 1048576");
    EXPECT_EQ(value_of(io->v1, "blkio.throttle.write_iops_device"), "8:0 100");
    EXPECT_EQ(value_of(io->v2, "io.weight"), "default " + std::to_string(cgroups::blkio_weight_to_io_weight(500)));
    EXPECT_EQ(io->v2.back().value, "8:0 wiops=100");
}

TEST(ResourceWrites, PidsHugetlbAndNetwork) {
    auto all = writes_for(json::parse(R"({"pids":{"limit":-1},"hugepageLimits":[{"pageSize":"2MB","limit":4194304}],
        "network":{"classID":1048577,"priorities":[{"name":"eth0","priority":5}]}})"));
    EXPECT_EQ(value_of(find(all, "pids")->v2, "pids.max"), "max");
    EXPECT_EQ(value_of(find(all, "hugetlb")->v1, "hugetlb.2MB.limit_in_bytes"), "4194304");
    EXPECT_EQ(value_of(find(all, "hugetlb")->v1, "hugetlb.2MB.rsvd.limit_in_bytes"), "4194304");
    EXPECT_EQ(value_of(find(all, "hugetlb")->v2, "hugetlb.2MB.max"), "4194304");
    EXPECT_EQ(value_of(find(all, "hugetlb")->v2, "hugetlb.2MB.rsvd.max"), "4194304");
    EXPECT_EQ(value_of(find(all, "net_cls")->v1, "net_cls.classid"), "1048577");
    EXPECT_FALSE(find(all, "net_cls")->v2.front().unsupported.empty());
    EXPECT_EQ(value_of(find(all, "net_prio")->v1, "net_prio.ifpriomap"), "eth0 5");
}

TEST(ResourceWrites, V1OnlyFieldsAreRefusedOnV2WithTheirPath) {
    auto all = writes_for(json::parse(R"({"memory":{"swappiness":10,"disableOOMKiller":true},
        "cpu":{"realtimeRuntime":950000,"realtimePeriod":1000000}})"));
    std::vector<std::string> refused;
    for (auto& cw : all)
        for (auto& w : cw.v2)
            if (!w.unsupported.empty()) refused.push_back(w.json_path);
    EXPECT_NE(std::find(refused.begin(), refused.end(), ".linux.resources.memory.swappiness"), refused.end());
    EXPECT_NE(std::find(refused.begin(), refused.end(), ".linux.resources.memory.disableOOMKiller"), refused.end());
    EXPECT_NE(std::find(refused.begin(), refused.end(), ".linux.resources.cpu.realtimeRuntime"), refused.end());
}

TEST(ResourceWrites, UnifiedIsV2OnlyAndCannotEscape) {
    auto all = writes_for(json::parse(R"({"unified":{"memory.high":"1073741824"}})"));
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].controller, "memory");
    EXPECT_EQ(value_of(all[0].v2, "memory.high"), "1073741824");
    EXPECT_FALSE(all[0].v1.front().unsupported.empty());
    for (const char* bad : {"../memory.max", "memory/../../x", "cgroup.procs", "..", "nodot"}) {
        try {
            writes_for(json{{"unified", {{bad, "1"}}}});
            ADD_FAILURE() << bad << " was accepted";
        } catch (const SpecError& e) {
            EXPECT_EQ(e.json_path(), std::string(".linux.resources.unified.") + bad);
        }
    }
}

TEST(ResourceWrites, TypeErrorsNameTheField) {
    try {
        writes_for(json::parse(R"({"memory":{"limit":"lots"}})"));
        FAIL();
    } catch (const SpecError& e) {
        EXPECT_EQ(e.json_path(), ".linux.resources.memory.limit");
    }
    try {
        writes_for(json::parse(R"({"memory":{"swappiness":200}})"));
        FAIL();
    } catch (const SpecError& e) {
        EXPECT_EQ(e.json_path(), ".linux.resources.memory.swappiness");
    }
}

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void touch(const std::string& path, const std::string& text = "") { std::ofstream(path) << text; }

}  // namespace

// The .rsvd limits (Linux >= 5.7) are written where the kernel has them and skipped where it has
// not, as runc does; the page-fault limit is written either way. A directory tree stands in for
// the cgroup hierarchy: a write to a file that does not exist fails with ENOENT there too.
TEST(ApplyResources, HugetlbReservationLimitWhereTheKernelHasOne) {
    auto resources = spec::parse_resources(json::parse(R"({"hugepageLimits":[{"pageSize":"2MB","limit":4194304},
        {"pageSize":"1GB","limit":1073741824}]})"), ".linux.resources");
    test::TempDir root;
    const std::string v2 = root.path() + "/unified", leaf = v2 + "/c";
    std::filesystem::create_directories(leaf);
    touch(v2 + "/cgroup.controllers", "cpu hugetlb pids\n");
    touch(v2 + "/cgroup.subtree_control", "hugetlb\n");
    for (const char* file : {"hugetlb.2MB.max", "hugetlb.2MB.rsvd.max", "hugetlb.1GB.max"}) touch(leaf + "/" + file);
    cgroups::Layout layout{cgroups::Mode::v2, {{v2, "", true}}};
    cgroups::apply_resources(layout, {leaf}, resources, ".linux.resources");
    EXPECT_EQ(slurp(leaf + "/hugetlb.2MB.max"), "4194304");
    EXPECT_EQ(slurp(leaf + "/hugetlb.2MB.rsvd.max"), "4194304");
    EXPECT_EQ(slurp(leaf + "/hugetlb.1GB.max"), "1073741824");
    EXPECT_FALSE(std::filesystem::exists(leaf + "/hugetlb.1GB.rsvd.max"));

    // v1: the same with limit_in_bytes; a missing fault limit is still an error.
    const std::string v1 = root.path() + "/hugetlb", v1_leaf = v1 + "/c";
    std::filesystem::create_directories(v1_leaf);
    touch(v1_leaf + "/hugetlb.2MB.limit_in_bytes");
    touch(v1_leaf + "/hugetlb.1GB.limit_in_bytes");
    touch(v1_leaf + "/hugetlb.1GB.rsvd.limit_in_bytes");
    cgroups::Layout v1_layout{cgroups::Mode::v1, {{v1, "hugetlb", false}}};
    cgroups::apply_resources(v1_layout, {v1_leaf}, resources, ".linux.resources");
    EXPECT_EQ(slurp(v1_leaf + "/hugetlb.2MB.limit_in_bytes"), "4194304");
    EXPECT_FALSE(std::filesystem::exists(v1_leaf + "/hugetlb.2MB.rsvd.limit_in_bytes"));
    EXPECT_EQ(slurp(v1_leaf + "/hugetlb.1GB.rsvd.limit_in_bytes"), "1073741824");
    std::filesystem::remove(v1_leaf + "/hugetlb.1GB.limit_in_bytes");
    try {
        cgroups::apply_resources(v1_layout, {v1_leaf}, resources, ".linux.resources");
        ADD_FAILURE() << "a missing hugetlb.1GB.limit_in_bytes was skipped";
    } catch (const Error& e) {
        EXPECT_TRUE(test::contains(e.what(), ".linux.resources.hugepageLimits[1]")) << e.what();
    }
}
