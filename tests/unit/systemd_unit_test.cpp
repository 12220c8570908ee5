// The systemd cgroup driver's pure parts: cgroupsPath -> unit and cgroup, linux.resources and
// annotations -> unit properties.
#include <gtest/gtest.h>

#include "cgroups/resource_writes.hpp"
#include "cgroups/systemd/unit_placement.hpp"
#include "cgroups/systemd/unit_properties.hpp"
#include "crunlite/error.hpp"

using namespace crunlite;
using namespace crunlite::cgroups::systemd;
using nlohmann::json;

namespace {

const UnitProperty* find(const std::vector<UnitProperty>& props, const std::string& name) {
    const UnitProperty* found = nullptr;
    for (auto& p : props)
        if (p.name == name) found = &p;  // the last one counts, as in systemd
    return found;
}

std::vector<UnitProperty> from_resources(const char* text) {
    return resource_properties(spec::parse_resources(json::parse(text), ".linux.resources"));
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "<no error>";
}

}  // namespace

TEST(SystemdPlacement, DockerAndPodmanPaths) {
    UnitPlacement docker = place_unit("system.slice:docker:0123abc", "0123abc");
    EXPECT_EQ(docker.unit, "docker-0123abc.scope");
    EXPECT_EQ(docker.slice, "system.slice");
    EXPECT_FALSE(docker.is_slice);
    EXPECT_EQ(docker.cgroup_path, "/system.slice/docker-0123abc.scope");
    UnitPlacement podman = place_unit("machine.slice:libpod:ff", "ff");
    EXPECT_EQ(podman.cgroup_path, "/machine.slice/libpod-ff.scope");
}

TEST(SystemdPlacement, DefaultsAndEmptyParts) {
    EXPECT_EQ(place_unit("", "c1").cgroup_path, "/system.slice/crun-lite-c1.scope");
    EXPECT_EQ(place_unit(":p:n", "c1").cgroup_path, "/system.slice/p-n.scope");
    EXPECT_EQ(place_unit("system.slice::n", "c1").unit, "n.scope");
    EXPECT_EQ(place_unit("-:p:n", "c1").cgroup_path, "/p-n.scope");
}

TEST(SystemdPlacement, NestedSlicesExpand) {
    EXPECT_EQ(expand_slice("a-b-c.slice"), "/a.slice/a-b.slice/a-b-c.slice");
    EXPECT_EQ(expand_slice("-.slice"), "");
    UnitPlacement kube = place_unit("kubepods-besteffort-pod12.slice:cri-containerd:abc", "abc");
    EXPECT_EQ(kube.cgroup_path, "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod12.slice/cri-containerd-abc.scope");
}

TEST(SystemdPlacement, NameEndingInSliceMakesASlice) {
    UnitPlacement p = place_unit("system.slice:ignored:system-mine.slice", "c1");
    EXPECT_TRUE(p.is_slice);
    EXPECT_EQ(p.unit, "system-mine.slice");
    EXPECT_EQ(p.cgroup_path, "/system.slice/system-mine.slice");
}

TEST(SystemdPlacement, MalformedPathsNameTheField) {
    for (const char* bad : {"a:b", "/abs/path", "x.slice:p:n:extra", "nodots:p:n", "a/b.slice:p:n", "a--b.slice:p:n",
                            "-a.slice:p:n", "system.slice:p:", "system.slice:p:bad name"}) {
        std::string message = error_of([&] { place_unit(bad, "c1"); });
        EXPECT_EQ(message.rfind(".linux.cgroupsPath: ", 0), 0u) << bad << " -> " << message;
    }
}

TEST(SystemdProperties, ScopeAlwaysDelegatedWithAccounting) {
    auto props = scope_properties("c1", "system.slice", false);
    EXPECT_EQ(std::get<std::string>(find(props, "Slice")->value), "system.slice");
    EXPECT_EQ(std::get<bool>(find(props, "Delegate")->value), true);
    EXPECT_EQ(std::get<bool>(find(props, "DefaultDependencies")->value), false);
    EXPECT_EQ(std::get<bool>(find(props, "MemoryAccounting")->value), true);
    EXPECT_EQ(find(scope_properties("c1", "system.slice", true), "Slice"), nullptr);  // a slice's name says its parent
}

TEST(SystemdProperties, ResourcesRuncConverts) {
    auto props = from_resources(R"({"memory":{"limit":67108864,"reservation":33554432,"swap":100663296},
        "cpu":{"shares":1024,"quota":50000,"period":100000,"cpus":"0-2,7","mems":"0"},"pids":{"limit":50},
        "blockIO":{"weight":500}})");
    EXPECT_EQ(std::get<uint64_t>(find(props, "MemoryMax")->value), 67108864u);
    EXPECT_EQ(std::get<uint64_t>(find(props, "MemoryLow")->value), 33554432u);
    EXPECT_EQ(std::get<uint64_t>(find(props, "MemorySwapMax")->value), 33554432u);  // swap counts memory too in the spec
    EXPECT_EQ(std::get<uint64_t>(find(props, "CPUQuotaPerSecUSec")->value), 500000u);
    EXPECT_EQ(std::get<uint64_t>(find(props, "CPUQuotaPeriodUSec")->value), 100000u);
    EXPECT_EQ(std::get<uint64_t>(find(props, "CPUWeight")->value), cgroups::cpu_shares_to_weight(1024));
    EXPECT_EQ(std::get<std::vector<uint8_t>>(find(props, "AllowedCPUs")->value), (std::vector<uint8_t>{0x87}));
    EXPECT_EQ(to_text(find(props, "AllowedCPUs")->value), "0-2 7");
    EXPECT_EQ(std::get<uint64_t>(find(props, "TasksMax")->value), 50u);
    EXPECT_EQ(std::get<uint64_t>(find(props, "IOWeight")->value), cgroups::blkio_weight_to_io_weight(500));
}

TEST(SystemdProperties, UnlimitedAndUnsetValues) {
    auto props = from_resources(R"({"memory":{"limit":-1,"swap":-1},"cpu":{"quota":-1},"pids":{"limit":-1}})");
    EXPECT_EQ(std::get<uint64_t>(find(props, "MemoryMax")->value), kInfinity);
    EXPECT_EQ(std::get<uint64_t>(find(props, "MemorySwapMax")->value), kInfinity);
    EXPECT_EQ(std::get<uint64_t>(find(props, "CPUQuotaPerSecUSec")->value), kInfinity);
    EXPECT_EQ(std::get<uint64_t>(find(props, "TasksMax")->value), kInfinity);
    // Docker's zeros mean "not set".
    EXPECT_TRUE(from_resources(R"({"memory":{"limit":0},"cpu":{"shares":0,"quota":0,"period":0},"pids":{"limit":0}})").empty());
}

TEST(SystemdProperties, QuotaRoundsUpToTenMilliseconds) {
    // 33333 us every 100 ms is 333330 us a second; systemd keeps 10 ms steps, so 340 ms.
    auto props = from_resources(R"({"cpu":{"quota":33333,"period":100000}})");
    EXPECT_EQ(std::get<uint64_t>(find(props, "CPUQuotaPerSecUSec")->value), 340000u);
}

TEST(SystemdProperties, AnnotationsInGVariantText) {
    auto props = annotation_properties({{"org.systemd.property.TimeoutStopUSec", "uint64 123456789"},
                                        {"org.systemd.property.CollectMode", "'inactive-or-failed'"},
                                        {"org.systemd.property.TimeoutStopSec", "3"},
                                        {"org.systemd.property.After", "['a.service', \"b.service\"]"},
                                        {"org.systemd.property.CPUAccounting", "false"},
                                        {"org.systemd.property.Nice", "int32 -5"},
                                        {"other.annotation", "ignored"}});
    ASSERT_EQ(props.size(), 6u);
    EXPECT_EQ(std::get<std::string>(find(props, "CollectMode")->value), "inactive-or-failed");
    EXPECT_EQ(std::get<std::vector<std::string>>(find(props, "After")->value), (std::vector<std::string>{"a.service", "b.service"}));
    EXPECT_EQ(std::get<bool>(find(props, "CPUAccounting")->value), false);
    EXPECT_EQ(std::get<int32_t>(find(props, "Nice")->value), -5);
    // The annotations come in key order: "...StopSec" (3 s, given as microseconds under the
    // USec name) before "...StopUSec", which systemd then applies last.
    EXPECT_EQ(props[4].name, "TimeoutStopUSec");
    EXPECT_EQ(std::get<uint64_t>(props[4].value), 3000000u);
    EXPECT_EQ(std::get<uint64_t>(find(props, "TimeoutStopUSec")->value), 123456789u);
}

TEST(SystemdProperties, BadAnnotationsNameTheirKey) {
    std::string message = error_of([] { annotation_properties({{"org.systemd.property.Bad-Name", "1"}}); });
    EXPECT_EQ(message.rfind(".annotations[\"org.systemd.property.Bad-Name\"]: ", 0), 0u) << message;
    message = error_of([] { annotation_properties({{"org.systemd.property.MemoryMax", "uint64 nope"}}); });
    EXPECT_EQ(message.rfind(".annotations[\"org.systemd.property.MemoryMax\"]: ", 0), 0u) << message;
    message = error_of([] { annotation_properties({{"org.systemd.property.Description", "'unclosed"}}); });
    EXPECT_NE(message.find("not closed"), std::string::npos) << message;
    message = error_of([] { annotation_properties({{"org.systemd.property.TasksMax", "uint8 300"}}); });
    EXPECT_NE(message, "<no error>");
}
